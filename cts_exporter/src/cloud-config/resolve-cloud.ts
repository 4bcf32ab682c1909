import { AppError, ErrorCode, type Env } from "@cts/shared";
import type { AuthMethod, CloudConfig, EndpointInterface } from "./cloud-config.js";
import { CloudEntry, describeIssues } from "./clouds-schema.js";
import { Secret } from "./secret.js";

/** The settings a cloud resolves to, each read from the first place that has it. */
const SETTINGS = {
  auth_url: { file: ["auth.auth_url"], env: ["OS_AUTH_URL"] },
  username: { file: ["auth.username"], env: ["OS_USERNAME"] },
  user_id: { file: ["auth.user_id"], env: ["OS_USERID", "OS_USER_ID"] },
  password: { file: ["auth.password"], env: ["OS_PASSWORD"] },
  project_name: { file: ["auth.project_name"], env: ["OS_PROJECT_NAME", "OS_TENANT_NAME"] },
  project_id: { file: ["auth.project_id"], env: ["OS_PROJECT_ID", "OS_TENANT_ID"] },
  domain_name: {
    file: ["auth.user_domain_name", "auth.domain_name", "auth.project_domain_name"],
    env: ["OS_DOMAIN_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME"],
  },
  domain_id: {
    file: ["auth.user_domain_id", "auth.domain_id", "auth.project_domain_id"],
    env: ["OS_DOMAIN_ID", "OS_USER_DOMAIN_ID", "OS_PROJECT_DOMAIN_ID"],
  },
  ak: {
    file: ["auth.ak", "auth.access_key", "ak", "access_key"],
    env: ["AWS_ACCESS_KEY_ID", "OS_ACCESS_KEY", "OS_ACCESS_KEY_ID", "OS_AK"],
  },
  sk: {
    file: ["auth.sk", "auth.secret_key", "sk", "secret_key"],
    env: ["AWS_ACCESS_SECRET_KEY", "OS_SECRET_KEY", "OS_ACCESS_KEY_SECRET", "OS_SK"],
  },
  security_token: {
    file: ["auth.security_token", "security_token"],
    env: ["AWS_SECURITY_TOKEN", "OS_SECURITY_TOKEN", "OS_AKSK_SECURITY_TOKEN", "OS_ST"],
  },
  region_name: { file: ["region_name"], env: ["OS_REGION_NAME", "OS_REGION_ID"] },
  auth_type: { file: ["auth_type"], env: ["OS_AUTH_TYPE"] },
  interface: { file: ["interface", "endpoint_type"], env: ["OS_INTERFACE", "OS_ENDPOINT_TYPE"] },
  identity_api_version: { file: ["identity_api_version"], env: ["OS_IDENTITY_API_VERSION"] },
} as const;
type Setting = keyof typeof SETTINGS;

/**
 * Credentials come from the file or from the environment, never half from each: a stray
 * OS_AK in the shell must not turn a password cloud into an AK/SK cloud.
 */
const CREDENTIALS: readonly Setting[] = [
  "username",
  "user_id",
  "password",
  "ak",
  "sk",
  "security_token",
];

/** `<PASSWORD>`-style values left over from clouds.tpl; they count as unset. */
const WHOLE_PLACEHOLDER = /^<[A-Za-z][\w -]*>$/;
/** `eu-de_<PROJECT_NAME>`: names that cannot contain `<` may hold one inside. */
const INNER_PLACEHOLDER = /<[A-Z][A-Z0-9_]*>/;
const MAY_HOLD_INNER_PLACEHOLDER = new Set<Setting>(["project_name", "username", "domain_name"]);
/** Secrets are used exactly as written: a password may begin or end with a space. */
const SECRETS = new Set<Setting>(["password", "sk", "security_token"]);

/** Where a cloud came from, for messages. */
interface CloudSource {
  readonly cloud: string;
  readonly file: string | undefined;
  readonly secureFile: string | undefined;
}

export function describeSource(source: CloudSource): string {
  return source.file === undefined
    ? `cloud "${source.cloud}" built from OS_* environment variables`
    : `clouds.yaml "${source.file}", cloud "${source.cloud}"`;
}

function configError(source: CloudSource, problem: string): AppError {
  return new AppError(ErrorCode.CONFIG_INVALID, `${describeSource(source)}: ${problem}`, {
    details: { cloud: source.cloud, file: source.file ?? null },
  });
}

function lookup(entry: CloudEntry, path: string): unknown {
  const [first, second] = path.split(".") as [string, string | undefined];
  const record = entry as Record<string, unknown>;
  if (second === undefined) return record[first];
  const section = record[first];
  return typeof section === "object" && section !== null
    ? (section as Record<string, unknown>)[second]
    : undefined;
}

interface Value {
  readonly text: string;
  /** `auth.password` or `OS_PASSWORD`: where it was read, for messages. */
  readonly from: string;
}

/** Reads every setting from the entry, then from the environment, skipping placeholders. */
function readSettings(entry: CloudEntry, env: Env, fromFile: boolean) {
  const values = new Map<Setting, Value>();
  const placeholders: string[] = [];
  const fromEnvironment: string[] = [];
  const pick = (setting: Setting, candidate: unknown, from: string): boolean => {
    if (typeof candidate === "number") candidate = String(candidate);
    if (typeof candidate !== "string" || candidate.trim() === "") return false;
    const text = SECRETS.has(setting) ? candidate : candidate.trim();
    const placeholder =
      WHOLE_PLACEHOLDER.test(text.trim()) ||
      (MAY_HOLD_INNER_PLACEHOLDER.has(setting) && INNER_PLACEHOLDER.test(text));
    if (placeholder) {
      placeholders.push(from);
      return false;
    }
    values.set(setting, { text, from });
    return true;
  };
  for (const setting of Object.keys(SETTINGS) as Setting[]) {
    for (const path of SETTINGS[setting].file) {
      if (pick(setting, lookup(entry, path), path)) break;
    }
  }
  const fileHasCredentials = fromFile && CREDENTIALS.some((setting) => values.has(setting));
  for (const setting of Object.keys(SETTINGS) as Setting[]) {
    if (values.has(setting) || (fileHasCredentials && CREDENTIALS.includes(setting))) continue;
    for (const variable of SETTINGS[setting].env) {
      if (pick(setting, env[variable], variable)) {
        fromEnvironment.push(`${SETTINGS[setting].file[0]}<-${variable}`);
        break;
      }
    }
  }
  return { values, placeholders, fromEnvironment };
}

const INTERFACES: Record<string, EndpointInterface> = {
  public: "public",
  publicurl: "public",
  internal: "internal",
  internalurl: "internal",
  admin: "admin",
  adminurl: "admin",
};

/**
 * Turns one clouds.yaml entry (secure.yaml already merged) plus the environment into a
 * {@link CloudConfig}. Throws AppError CONFIG_INVALID naming the file, the cloud and the key;
 * messages never contain a configured value that could be a secret.
 */
export function resolveCloud(rawEntry: unknown, context: CloudSource & { env: Env }): CloudConfig {
  const source: CloudSource = context;
  const parsed = CloudEntry.safeParse(rawEntry ?? {});
  if (!parsed.success) throw configError(source, describeIssues(parsed.error));
  const { values, placeholders, fromEnvironment } = readSettings(
    parsed.data,
    context.env,
    source.file !== undefined,
  );
  const get = (setting: Setting) => values.get(setting)?.text;
  const missing = (setting: Setting, hint: string) => {
    const key = SETTINGS[setting].file[0];
    const leftover = placeholders.find((from) =>
      (SETTINGS[setting].file as readonly string[]).includes(from),
    );
    const why =
      leftover === undefined ? "is missing" : `still holds the template placeholder (${leftover})`;
    return configError(source, `${key} ${why}; ${hint}`);
  };

  const version = get("identity_api_version");
  if (version !== undefined && !/^3(\.\d+)?$/.test(version)) {
    throw configError(source, "identity_api_version must be 3; OTC IAM speaks Keystone v3 only");
  }
  const interfaceName = (get("interface") ?? "public").toLowerCase();
  const endpointInterface = INTERFACES[interfaceName];
  if (endpointInterface === undefined) {
    throw configError(
      source,
      `${values.get("interface")?.from ?? "interface"} must be public, internal or admin`,
    );
  }

  const projectName = get("project_name");
  const projectId = get("project_id");
  if (projectName === undefined && projectId === undefined) {
    throw missing(
      "project_name",
      "set auth.project_name (e.g. eu-de_myproject) or auth.project_id",
    );
  }
  const region = get("region_name") ?? projectName?.split("_")[0] ?? firstRegion(parsed.data);

  const authMethod = chooseAuthMethod(get("auth_type"), values, source);
  const credentials =
    authMethod === "aksk" ? akskCredentials(values, missing) : passwordCredentials(values, missing);
  const domainName = get("domain_name");
  const domainId = get("domain_id");
  if (credentials.method === "password" && credentials.userId === undefined) {
    if (domainName === undefined && domainId === undefined) {
      throw missing(
        "domain_name",
        "a user name is unique only within its domain: set auth.user_domain_name (OTC00000000001000000xxx) or auth.user_domain_id",
      );
    }
  }

  return {
    cloud: source.cloud,
    file: source.file,
    secureFile: source.secureFile,
    authMethod,
    credentials,
    authUrl: normaliseAuthUrl(get("auth_url"), region, { source, missing }),
    region,
    projectName,
    projectId,
    domainName,
    domainId,
    interface: endpointInterface,
    fromEnvironment,
    placeholders,
  };
}

function firstRegion(entry: CloudEntry): string | undefined {
  const first = entry.regions?.[0];
  return typeof first === "string" ? first : first?.name;
}

function chooseAuthMethod(
  authType: string | undefined,
  values: ReadonlyMap<Setting, Value>,
  source: CloudSource,
): AuthMethod {
  switch (authType?.toLowerCase()) {
    case undefined:
      // GTC's rule: AK/SK wins whenever an access key is configured, even next to a password.
      return values.has("ak") || values.has("sk") ? "aksk" : "password";
    case "aksk":
      return "aksk";
    case "password":
    case "v3password":
      return "password";
    default:
      throw configError(
        source,
        "auth_type must be password or aksk; token and agency authentication are not supported",
      );
  }
}

type Missing = (setting: Setting, hint: string) => AppError;

function akskCredentials(values: ReadonlyMap<Setting, Value>, missing: Missing) {
  const accessKey = values.get("ak")?.text;
  const secretKey = values.get("sk")?.text;
  if (accessKey === undefined)
    throw missing("ak", "AK/SK needs both the access key and the secret key");
  if (secretKey === undefined)
    throw missing("sk", "AK/SK needs both the access key and the secret key");
  const token = values.get("security_token")?.text;
  return {
    method: "aksk" as const,
    accessKey,
    secretKey: new Secret(secretKey),
    securityToken: token === undefined ? undefined : new Secret(token),
  };
}

function passwordCredentials(values: ReadonlyMap<Setting, Value>, missing: Missing) {
  const username = values.get("username")?.text;
  const userId = values.get("user_id")?.text;
  const password = values.get("password")?.text;
  if (username === undefined && userId === undefined) {
    throw missing("username", "set auth.username and auth.password, or auth.ak and auth.sk");
  }
  if (password === undefined) {
    throw missing(
      "password",
      "set it here or in secure.yaml, or configure auth.ak and auth.sk instead",
    );
  }
  return { method: "password" as const, username, userId, password: new Secret(password) };
}

function normaliseAuthUrl(
  authUrl: string | undefined,
  region: string | undefined,
  context: { source: CloudSource; missing: Missing },
): string {
  if (authUrl === undefined) {
    throw context.missing(
      "auth_url",
      "set it to the IAM endpoint, e.g. https://iam.eu-de.otc.t-systems.com/v3",
    );
  }
  let text = authUrl;
  if (text.includes("{region_name}")) {
    if (region === undefined) {
      throw configError(
        context.source,
        "auth.auth_url contains {region_name} but no region is known; set region_name",
      );
    }
    text = text.replaceAll("{region_name}", region);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError(
      context.source,
      "auth.auth_url is not a URL; expected e.g. https://iam.eu-de.otc.t-systems.com/v3",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw configError(context.source, "auth.auth_url must be an http or https URL");
  }
  // Keystone clients accept the bare host too; OTC IAM lives under /v3.
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith("/v3") ? path : `${path}/v3`;
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}
