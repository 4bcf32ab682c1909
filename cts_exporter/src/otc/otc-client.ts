import { z } from "zod";
import { AppError, ErrorCode, type Logger, type RetryOptions, type TraceOrigin } from "@cts/shared";
import { openAkSkSession } from "./aksk-session.js";
import { parseCtsEndpoint, resolveCtsEndpoint, type CatalogEntry } from "./catalog.js";
import { createOtcHttp, IAM_FAILURES, type Authenticator, type OtcHttp } from "./otc-http.js";
import { createTokenSource } from "./password-token.js";
import { describeSource, type AuthMethod, type CloudConfig } from "../cloud-config/index.js";
import type { TraceSource } from "../core/ports.js";
import { parseJsonAs } from "../json.js";
import { listTraces, type InvalidTrace } from "./trace-lister.js";

/** The exporter's grip on one OTC project: who it is, and its CTS traces. */
export interface OtcClient extends TraceSource {
  /** CTS v3 endpoint (with project id), region, project id and domain id for the events. */
  readonly origin: TraceOrigin;
  readonly authMethod: AuthMethod;
  /** How many listed entries failed validation (not yielded; see `onInvalid`), since creation. */
  readonly invalidTraces: number;
  /** The enabled projects IAM lets these credentials scope to (`GET /v3/auth/projects`). */
  accessibleProjects(): Promise<{ readonly id: string; readonly name: string }[]>;
}

const AuthProjects = z.looseObject({
  projects: z.array(
    z.looseObject({ id: z.string(), name: z.string(), enabled: z.boolean().nullish() }),
  ),
});

/** The clouds.yaml profile pointed at another project of the same account (CTS_PROJECTS). */
export function forProject(config: CloudConfig, project: string): CloudConfig {
  // Project ids are 32 hex digits; anything else is a name such as `eu-de_analytics`.
  const isId = /^[0-9a-f]{32}$/.test(project);
  return {
    ...config,
    projectId: isId ? project : undefined,
    projectName: isId ? undefined : project,
    // A project's region is its name's prefix; the profile's region_name is another project's.
    region: isId ? undefined : project.split("_")[0],
  };
}

export interface OtcClientOptions {
  readonly logger: Logger;
  /** CTS_ENDPOINT: replaces the catalog's CTS endpoint, e.g. `https://cts.eu-de.otc.t-systems.com`. */
  readonly ctsEndpoint?: string;
  /** Injectable for tests; the global fetch by default. */
  readonly fetch?: typeof fetch;
  /** Per attempt; 30 s by default. */
  readonly requestTimeoutMs?: number;
  /** Backoff for 429, 5xx, timeouts and network errors; see {@link RetryOptions}. */
  readonly retry?: RetryOptions;
  /** Called for each skipped trace, e.g. to count it in metrics. */
  readonly onInvalidTrace?: (invalid: InvalidTrace) => void;
  /** The clock for token expiry and signature dates; Date.now by default. */
  readonly now?: () => number;
  /** Page size of trace listing; 200 (the CTS maximum) by default. */
  readonly pageSize?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

interface Session {
  readonly projectId: string;
  readonly projectName: string | undefined;
  readonly domainId: string | undefined;
  readonly catalog: readonly CatalogEntry[];
  readonly authenticator: Authenticator;
}

/** Signs in: AK/SK signs every call; a password gets an IAM token (and its catalog). */
async function openSession(
  config: CloudConfig,
  deps: { readonly http: OtcHttp; readonly logger: Logger; readonly now: () => number },
): Promise<Session> {
  const { http, logger, now } = deps;
  if (config.credentials.method === "aksk") {
    return openAkSkSession({ http, config, credentials: config.credentials, logger, now });
  }
  const tokens = createTokenSource({
    http,
    config,
    credentials: config.credentials,
    logger,
    now,
  });
  const token = await tokens.current();
  return { ...token, catalog: token.catalog ?? [], authenticator: tokens.authenticator };
}

/**
 * The project's CTS v3 endpoint and the origin its events carry.
 * @throws AppError CLOUD_AUTH_FAILED when neither the catalog nor the region gives an endpoint.
 */
function ctsOriginOf(
  config: CloudConfig,
  session: Session,
  override: string | undefined,
): {
  readonly origin: TraceOrigin;
  readonly endpoint: NonNullable<ReturnType<typeof resolveCtsEndpoint>>;
} {
  const region = config.region ?? session.projectName?.split("_")[0];
  const endpoint = resolveCtsEndpoint({
    override,
    catalog: session.catalog,
    projectId: session.projectId,
    region,
    interface: config.interface,
  });
  if (endpoint === undefined || region === undefined) {
    throw new AppError(
      ErrorCode.CLOUD_AUTH_FAILED,
      `no CTS endpoint for project ${session.projectId}: the catalog has no cts or ctsv3 entry and the region is unknown; set region_name in ${describeSource(config)} or CTS_ENDPOINT`,
    );
  }
  return {
    origin: {
      source: endpoint.url,
      region,
      projectId: session.projectId,
      domainId: session.domainId,
    },
    endpoint,
  };
}

/** The enabled projects IAM lets these credentials scope to (`GET /v3/auth/projects`). */
async function listAccessibleProjects(
  http: OtcHttp,
  config: CloudConfig,
  auth: Authenticator,
): Promise<{ readonly id: string; readonly name: string }[]> {
  const url = new URL(`${config.authUrl}/auth/projects`);
  const response = await http.send(
    { method: "GET", url, what: "IAM project list" },
    {
      auth,
      failures: IAM_FAILURES,
      hint: "CTS_PROJECTS=all needs the right to list the account's projects; name them instead",
    },
  );
  const list = parseJsonAs(AuthProjects, response.text);
  if (list === undefined) {
    throw new AppError(
      ErrorCode.CLOUD_AUTH_FAILED,
      `IAM project list from ${config.authUrl} is not a project list; name the projects in CTS_PROJECTS`,
    );
  }
  return list.projects
    .filter((project) => project.enabled !== false)
    .map(({ id, name }) => ({ id, name }));
}

/**
 * Authenticates (password: an IAM token; AK/SK: project id and catalog through signed calls),
 * finds the project's CTS v3 endpoint, and returns the client the exporter polls with.
 * @throws AppError CLOUD_AUTH_FAILED (exit 70) when IAM refuses or cannot be reached, or no CTS
 * endpoint can be found; CONFIG_INVALID for a malformed CTS_ENDPOINT.
 */
export async function createOtcClient(
  config: CloudConfig,
  options: OtcClientOptions,
): Promise<OtcClient> {
  const now = options.now ?? Date.now;
  const override = parseCtsEndpoint(options.ctsEndpoint);
  const logger = options.logger;
  const http = createOtcHttp({
    logger,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    now,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  });

  const session = await openSession(config, { http, logger, now });
  const { origin, endpoint } = ctsOriginOf(config, session, override);
  logger.info(
    {
      cloud: config.cloud,
      authMethod: config.authMethod,
      projectId: origin.projectId,
      projectName: session.projectName ?? null,
      region: origin.region,
      domainId: origin.domainId ?? null,
      ctsEndpoint: endpoint.url,
      ctsEndpointFrom: endpoint.source,
      ...(config.fromEnvironment.length === 0 ? {} : { fromEnvironment: config.fromEnvironment }),
      ...(config.placeholders.length === 0 ? {} : { ignoredPlaceholders: config.placeholders }),
    },
    "OTC client ready",
  );

  let invalidTraces = 0;
  const lister = {
    http,
    auth: session.authenticator,
    endpoint: endpoint.url,
    logger,
    now,
    onInvalidTrace: (invalid: InvalidTrace) => {
      invalidTraces++;
      options.onInvalidTrace?.(invalid);
    },
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
  };
  return {
    origin,
    authMethod: config.authMethod,
    listTraces: (window, listOptions) => listTraces(lister, window, listOptions),
    get invalidTraces() {
      return invalidTraces;
    },
    accessibleProjects: () => listAccessibleProjects(http, config, session.authenticator),
  };
}
