import type { Secret } from "./secret.js";

/** How the exporter authenticates to OTC. */
export type AuthMethod = "password" | "aksk";

/** IAM password authentication: an X-Auth-Token for the configured project. */
export interface PasswordCredentials {
  readonly method: "password";
  /** Either the user name (then a user domain is required) or the user id. */
  readonly username: string | undefined;
  readonly userId: string | undefined;
  readonly password: Secret;
}

/** AK/SK authentication: every request signed with SDK-HMAC-SHA256. */
export interface AkSkCredentials {
  readonly method: "aksk";
  readonly accessKey: string;
  readonly secretKey: Secret;
  /** Present for temporary AK/SK, sent as X-Security-Token. */
  readonly securityToken: Secret | undefined;
}

/** Which endpoint of a catalog entry to use. */
export type EndpointInterface = "public" | "internal" | "admin";

/**
 * One resolved clouds.yaml profile: everything needed to authenticate and find CTS. The secrets
 * sit in {@link Secret} wrappers, so logging the whole object prints `[Redacted]` for them.
 */
export interface CloudConfig {
  /** The cloud's name in clouds.yaml (or `envvars` for a cloud built from OS_* variables). */
  readonly cloud: string;
  /** The clouds.yaml the cloud came from; `undefined` when it came from the environment. */
  readonly file: string | undefined;
  /** The secure.yaml merged over it, if any. */
  readonly secureFile: string | undefined;
  readonly authMethod: AuthMethod;
  readonly credentials: PasswordCredentials | AkSkCredentials;
  /** The IAM v3 base URL, `{region_name}` substituted, no trailing slash, e.g. `https://iam.eu-de.otc.t-systems.com/v3`. */
  readonly authUrl: string;
  /** `region_name`, else OS_REGION_NAME, else the project name's prefix (`eu-de_x` -> `eu-de`). */
  readonly region: string | undefined;
  readonly projectName: string | undefined;
  readonly projectId: string | undefined;
  /** The user's (and project's) domain: `user_domain_name`, else `domain_name`, else `project_domain_name`. */
  readonly domainName: string | undefined;
  readonly domainId: string | undefined;
  readonly interface: EndpointInterface;
  /** Keys filled from OS_* variables, as `key<-VARIABLE` (names only, for the log). */
  readonly fromEnvironment: readonly string[];
  /** Keys whose value was a template placeholder such as `<PASSWORD>` and were ignored. */
  readonly placeholders: readonly string[];
}
