/**
 * One error class for the whole project, keyed by a machine-readable code (the trpc/undici
 * pattern): callers branch on `code`, tests assert on `code`, humans read `message`.
 *
 * Messages say what was wrong, where, and what to do. They never carry a secret: build them
 * from names and locations, never from configuration values or request bodies.
 */
export const ErrorCode = {
  /** Invalid or missing configuration (env, flags, clouds.yaml). Exporter exit code 78. */
  CONFIG_INVALID: "CONFIG_INVALID",
  /** Authentication against OTC IAM failed or the endpoint could not be discovered. Exit 70. */
  CLOUD_AUTH_FAILED: "CLOUD_AUTH_FAILED",
  /** CTS answered with a retryable failure (429, 5xx, timeout, network). */
  CTS_API_UNAVAILABLE: "CTS_API_UNAVAILABLE",
  /** CTS rejected the request (400/403/404) or answered something unparseable. */
  CTS_API_REJECTED: "CTS_API_REJECTED",
  /** The sink could not be reached or answered with a retryable status. */
  SINK_UNAVAILABLE: "SINK_UNAVAILABLE",
  /** The sink rejected an event with a non-retryable status. */
  SINK_REJECTED: "SINK_REJECTED",
  /** An incoming request is not a valid CloudEvent. */
  CE_INVALID: "CE_INVALID",
  /** A CloudEvent's data is not a CTS trace. */
  CE_DATA_INVALID: "CE_DATA_INVALID",
  /** The sender's identity (an OIDC bearer token) is missing or not valid for this sink. */
  SENDER_UNAUTHENTICATED: "SENDER_UNAUTHENTICATED",
  /** The OIDC issuer's discovery document or keys could not be fetched; the sender may retry. */
  OIDC_ISSUER_UNAVAILABLE: "OIDC_ISSUER_UNAVAILABLE",
  /** The request body exceeds the configured limit. */
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** The request's media type is not a CloudEvents encoding we accept. */
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  /** Neo4j is unreachable or answered a transient error; the write may be retried. */
  NEO4J_UNAVAILABLE: "NEO4J_UNAVAILABLE",
  /**
   * Neo4j answered a transient error that is contention, not an outage (a deadlock between
   * concurrent writers, a lock timeout, any Neo.TransientError): retry the same write shortly.
   */
  NEO4J_TRANSIENT: "NEO4J_TRANSIENT",
  /** Neo4j rejected the credentials. */
  NEO4J_AUTH_FAILED: "NEO4J_AUTH_FAILED",
  /** Neo4j failed in a way retrying will not fix. */
  NEO4J_FATAL: "NEO4J_FATAL",
  /** A local tool (java, mvn) is missing or failed. */
  TOOL_FAILED: "TOOL_FAILED",
  /** Anything unexpected: a bug. */
  INTERNAL: "INTERNAL",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

interface AppErrorOptions {
  readonly cause?: unknown;
  /** Whether repeating the same operation later can succeed. */
  readonly retryable?: boolean;
  /** Structured, secret-free details for logs and HTTP answers. */
  readonly details?: Readonly<Record<string, unknown>>;
}

const BRAND = Symbol.for("cloudtrace-exporter.AppError");

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** `instanceof` that also holds when two copies of this module are loaded (dist and src). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && BRAND in value;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Normalises anything thrown into an AppError, keeping the original as `cause`. */
export function toAppError(value: unknown, fallback: ErrorCode = ErrorCode.INTERNAL): AppError {
  if (value instanceof AppError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new AppError(fallback, message, { cause: value });
}
