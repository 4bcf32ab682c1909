import { AppError, ErrorCode, type Env } from "@cts/shared";
import { z } from "zod";

/** How the sink reaches Neo4j (docs/event-contract.md section 5). */
export interface Neo4jConnectionConfig {
  readonly uri: string;
  readonly user: string;
  readonly password: string;
  /** undefined = the server's default database. */
  readonly database: string | undefined;
}

/**
 * Knative sender identity (the `authentication-oidc` feature): the sender presents a
 * Kubernetes ServiceAccount token whose audience is this sink. See docs/event-contract.md,
 * "Sender identity".
 */
export interface SenderIdentityConfig {
  /** The token issuer (`iss`), e.g. https://kubernetes.default.svc. */
  readonly issuer: string;
  /** The audience the sink expects (`aud`), e.g. the sink's `spec.sink.audience`. */
  readonly audience: string;
  /** The JWKS to verify signatures with; found through the issuer's OIDC discovery when unset. */
  readonly jwksUri: string | undefined;
}

/** Everything the sink is configured with. */
export interface SinkConfig {
  readonly neo4j: Neo4jConnectionConfig;
  /** HTTP port; 0 picks a free one. */
  readonly port: number;
  /** Interface to listen on; undefined = all. */
  readonly host: string | undefined;
  readonly maxBodyBytes: number;
  readonly batchLingerMs: number;
  readonly batchMaxEvents: number;
  readonly queueMaxEvents: number;
  readonly maxTextChars: number;
  readonly retryAfterSeconds: number;
  /** How long the start waits for an unreachable Neo4j before giving up. */
  readonly startupTimeoutMs: number;
  readonly logLevel: string;
  /** Sender identity (Knative OIDC): both set, or neither (everyone may send). */
  readonly senderIdentity: SenderIdentityConfig | undefined;
}

/** Defaults of everything but the Neo4j connection. */
export const SINK_DEFAULTS: Omit<SinkConfig, "neo4j"> = {
  port: 8080,
  host: undefined,
  maxBodyBytes: 1024 * 1024,
  batchLingerMs: 5,
  batchMaxEvents: 2000,
  queueMaxEvents: 20_000,
  maxTextChars: 8192,
  retryAfterSeconds: 5,
  startupTimeoutMs: 60_000,
  logLevel: "info",
  senderIdentity: undefined,
};

/** An empty variable counts as unset, as in most shells' `VAR= cmd`. */
const unsetIfEmpty = (value: unknown) => (value === "" ? undefined : value);
const integer = (min: number, max: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(min).max(max).optional());
const text = () => z.preprocess(unsetIfEmpty, z.string().optional());

const NEO4J_SCHEMES = /^(neo4j|bolt)(\+s|\+ssc)?:\/\/[^\s/]+/;

const EnvSchema = z.object({
  NEO4J_URI: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(NEO4J_SCHEMES, "must be a neo4j://, neo4j+s://, neo4j+ssc:// or bolt[+s|+ssc]:// URI")
      .default("neo4j://localhost:7687"),
  ),
  NEO4J_USER: z.preprocess(unsetIfEmpty, z.string().default("neo4j")),
  NEO4J_PASSWORD: z.preprocess(unsetIfEmpty, z.string({ error: "is required" })),
  NEO4J_DATABASE: text(),
  PORT: integer(0, 65535),
  SINK_HOST: text(),
  SINK_MAX_BODY_BYTES: integer(1024, 256 * 1024 * 1024),
  SINK_BATCH_LINGER_MS: integer(0, 1000),
  SINK_BATCH_MAX_EVENTS: integer(1, 50_000),
  SINK_QUEUE_MAX_EVENTS: integer(1, 1_000_000),
  SINK_MAX_TEXT_CHARS: integer(16, 10_000_000),
  SINK_RETRY_AFTER_SECONDS: integer(1, 3600),
  SINK_STARTUP_TIMEOUT_SECONDS: integer(0, 3600),
  SINK_OIDC_ISSUER: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/ }).optional()),
  SINK_OIDC_AUDIENCE: text(),
  SINK_OIDC_JWKS_URI: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/ }).optional()),
  LOG_LEVEL: z.preprocess(
    unsetIfEmpty,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  ),
});

/**
 * Reads the configuration from the environment (docs/event-contract.md section 5). Throws CONFIG_INVALID naming every bad variable; values are never
 * echoed, so the password cannot leak through an error.
 */
export function sinkConfigFromEnv(env: Env): SinkConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `invalid neo4j_sink configuration: ${problems.join("; ")}`,
    );
  }
  const e = parsed.data;
  const d = SINK_DEFAULTS;
  if ((e.SINK_OIDC_ISSUER === undefined) !== (e.SINK_OIDC_AUDIENCE === undefined)) {
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      "invalid neo4j_sink configuration: SINK_OIDC_ISSUER and SINK_OIDC_AUDIENCE go together " +
        "(set both to require senders' OIDC tokens, or neither)",
    );
  }
  return {
    neo4j: {
      uri: e.NEO4J_URI,
      user: e.NEO4J_USER,
      password: e.NEO4J_PASSWORD,
      database: e.NEO4J_DATABASE,
    },
    port: e.PORT ?? d.port,
    host: e.SINK_HOST,
    maxBodyBytes: e.SINK_MAX_BODY_BYTES ?? d.maxBodyBytes,
    batchLingerMs: e.SINK_BATCH_LINGER_MS ?? d.batchLingerMs,
    batchMaxEvents: e.SINK_BATCH_MAX_EVENTS ?? d.batchMaxEvents,
    queueMaxEvents: e.SINK_QUEUE_MAX_EVENTS ?? d.queueMaxEvents,
    maxTextChars: e.SINK_MAX_TEXT_CHARS ?? d.maxTextChars,
    retryAfterSeconds: e.SINK_RETRY_AFTER_SECONDS ?? d.retryAfterSeconds,
    startupTimeoutMs:
      e.SINK_STARTUP_TIMEOUT_SECONDS === undefined
        ? d.startupTimeoutMs
        : e.SINK_STARTUP_TIMEOUT_SECONDS * 1000,
    logLevel: e.LOG_LEVEL ?? d.logLevel,
    senderIdentity:
      e.SINK_OIDC_ISSUER === undefined || e.SINK_OIDC_AUDIENCE === undefined
        ? undefined
        : {
            issuer: e.SINK_OIDC_ISSUER,
            audience: e.SINK_OIDC_AUDIENCE,
            jwksUri: e.SINK_OIDC_JWKS_URI,
          },
  };
}
