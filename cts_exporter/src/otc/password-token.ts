import { AppError, ErrorCode, type Logger } from "@cts/shared";
import { z } from "zod";
import { Catalog, type CatalogEntry } from "./catalog.js";
import {
  describeSource,
  Secret,
  type CloudConfig,
  type PasswordCredentials,
} from "../cloud-config/index.js";
import { IAM_FAILURES, type Authenticator, type OtcHttp } from "./otc-http.js";

/** What a password token tells about the session (docs/otc-api-notes.md section 4). */
interface IamToken {
  readonly value: Secret;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly projectId: string;
  readonly projectName: string | undefined;
  /** The polled project's domain (account) id; the user's when the token does not name it. */
  readonly domainId: string | undefined;
  /** Absent on renewals, which ask for `nocatalog`. */
  readonly catalog: readonly CatalogEntry[] | undefined;
}

const Named = z.looseObject({ id: z.string(), name: z.string().nullish() });
const TokenBody = z.looseObject({
  token: z.looseObject({
    expires_at: z.string(),
    issued_at: z.string().nullish(),
    project: Named.extend({ domain: Named.nullish() }).nullish(),
    user: Named.extend({ domain: Named.nullish() }).nullish(),
    catalog: Catalog.nullish(),
  }),
});

/** The `POST /v3/auth/tokens` body: password method, project scope by id or by name. */
function passwordTokenRequest(config: CloudConfig, credentials: PasswordCredentials): string {
  const domain =
    config.domainId === undefined ? { name: config.domainName } : { id: config.domainId };
  const user =
    credentials.userId === undefined
      ? { name: credentials.username, password: credentials.password.reveal(), domain }
      : { id: credentials.userId, password: credentials.password.reveal() };
  const project =
    config.projectId === undefined
      ? { name: config.projectName, domain }
      : { id: config.projectId };
  return JSON.stringify({
    auth: {
      identity: { methods: ["password"], password: { user } },
      scope: { project },
    },
  });
}

/**
 * Tokens last 24 h; renewing a little early keeps a long listing from meeting the expiry
 * mid-page. A tenth of the lifetime, at most 15 minutes.
 */
function renewalMargin(token: IamToken): number {
  return Math.min(15 * 60_000, Math.max(0, (token.expiresAt - token.issuedAt) / 10));
}

/** Password tokens: fetched once, cached, renewed before expiry and after a 401. */
interface TokenSource {
  current(signal?: AbortSignal): Promise<IamToken>;
  /** Puts `X-Auth-Token` on requests; a 401 drops the cached token for one renewal. */
  readonly authenticator: Authenticator;
}

interface TokenDeps {
  readonly http: OtcHttp;
  readonly config: CloudConfig;
  readonly credentials: PasswordCredentials;
  readonly logger: Logger;
  readonly now: () => number;
}

/** The token request itself carries the credentials; it needs no authentication of its own. */
const NO_AUTH: Authenticator = {
  method: "none",
  headers: (_request, headers) => Promise.resolve({ ...headers }),
  renew: () => false,
};

/** Who IAM refused, for the message: names only, never the password. */
function describeUser(config: CloudConfig, credentials: PasswordCredentials): string {
  return credentials.userId === undefined
    ? `user "${credentials.username ?? ""}" in domain "${config.domainName ?? config.domainId ?? ""}"`
    : `user id "${credentials.userId}"`;
}

/**
 * The token an IAM answer carries: its value from `X-Subject-Token`, the rest from the body.
 * @throws AppError CLOUD_AUTH_FAILED when the answer is not a project-scoped Keystone v3 token.
 */
function readToken(
  response: { readonly headers: Headers; readonly text: string },
  config: CloudConfig,
  now: number,
): IamToken {
  const subject = response.headers.get("x-subject-token");
  let body: z.infer<typeof TokenBody>;
  try {
    body = TokenBody.parse(JSON.parse(response.text));
  } catch {
    throw new AppError(
      ErrorCode.CLOUD_AUTH_FAILED,
      `IAM token response from ${config.authUrl} is not a Keystone v3 token; is auth.auth_url the IAM endpoint?`,
    );
  }
  if (subject === null || subject === "") {
    throw new AppError(
      ErrorCode.CLOUD_AUTH_FAILED,
      `IAM at ${config.authUrl} answered without an X-Subject-Token header; is auth.auth_url the IAM endpoint?`,
    );
  }
  const { token } = body;
  if (token.project === null || token.project === undefined) {
    throw new AppError(
      ErrorCode.CLOUD_AUTH_FAILED,
      `IAM issued a token without project scope for ${describeSource(config)}; check auth.project_name or auth.project_id`,
    );
  }
  const issuedAt = Date.parse(token.issued_at ?? "");
  const expiresAt = Date.parse(token.expires_at);
  return {
    value: new Secret(subject),
    issuedAt: Number.isNaN(issuedAt) ? now : issuedAt,
    // An unreadable expiry is treated as an hour: renewing early is harmless.
    expiresAt: Number.isNaN(expiresAt) ? now + 60 * 60_000 : expiresAt,
    projectId: token.project.id,
    projectName: token.project.name ?? undefined,
    // The project's account is the polled one; the user's differs for an agency user.
    domainId: token.project.domain?.id ?? token.user?.domain?.id ?? undefined,
    catalog: token.catalog ?? undefined,
  };
}

/** `POST /v3/auth/tokens`; the catalog only on the first request, renewals ask for `nocatalog`. */
async function fetchToken(
  deps: TokenDeps,
  withCatalog: boolean,
  signal?: AbortSignal,
): Promise<IamToken> {
  const { http, config, credentials } = deps;
  const url = new URL(`${config.authUrl}/auth/tokens`);
  if (!withCatalog) url.search = "nocatalog=true";
  const response = await http.send(
    {
      method: "POST",
      url,
      body: passwordTokenRequest(config, credentials),
      what: "IAM token request",
      signal,
    },
    {
      auth: NO_AUTH,
      failures: IAM_FAILURES,
      hint: `check auth.username/user_id, auth.password, auth.user_domain_name and the project of ${describeSource(config)} (IAM refused ${describeUser(config, credentials)})`,
    },
  );
  return readToken(response, config, deps.now());
}

export function createTokenSource(deps: TokenDeps): TokenSource {
  let cached: IamToken | undefined;
  let pending: Promise<IamToken> | undefined;

  function current(signal?: AbortSignal): Promise<IamToken> {
    if (cached !== undefined && deps.now() < cached.expiresAt - renewalMargin(cached)) {
      return Promise.resolve(cached);
    }
    pending ??= fetchToken(deps, cached === undefined, signal)
      .then((token) => {
        if (cached !== undefined) {
          deps.logger.info(
            { expiresAt: new Date(token.expiresAt).toISOString() },
            "IAM token renewed",
          );
        }
        cached = token;
        return token;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  return {
    current,
    authenticator: {
      method: "password",
      headers: async (request, headers) => ({
        ...headers,
        "x-auth-token": (await current(request.signal)).value.reveal(),
      }),
      renew: () => {
        // Keep the project and catalog: only the token value is stale.
        if (cached !== undefined) cached = { ...cached, expiresAt: Number.NEGATIVE_INFINITY };
        return true;
      },
    },
  };
}
