import {
  AppError,
  ErrorCode,
  parseRetryAfter,
  retry,
  type Logger,
  type RetryOptions,
} from "@cts/shared";
import { traceOtcRequest } from "../telemetry.js";
import { formatServiceError, parseServiceError } from "./error-body.js";

/** One request to IAM or CTS. */
interface OtcRequest {
  readonly method: "GET" | "POST";
  /** Complete URL, query included (encoded with `formatQueryString`, as the signer expects). */
  readonly url: URL;
  readonly body?: string;
  /** Extra headers, e.g. X-Project-Id; signed under AK/SK. */
  readonly headers?: Readonly<Record<string, string>>;
  /** What the request is for, in messages: "CTS trace list", "IAM token request"... */
  readonly what: string;
  readonly signal?: AbortSignal | undefined;
}

/** Puts credentials on a request: a token header, a signature, or nothing. */
export interface Authenticator {
  readonly method: "password" | "aksk" | "none";
  /** All headers to send, `headers` included (AK/SK signs exactly these). */
  headers(
    request: OtcRequest,
    headers: Readonly<Record<string, string>>,
  ): Promise<Record<string, string>>;
  /**
   * A 401 arrived. Returns true when fresh credentials are worth one more try (a password
   * token can be renewed; an AK/SK signature cannot get any better).
   */
  renew(): boolean;
}

/** An answer with a 2xx status. */
interface OtcResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Which error codes a call's failures get: IAM calls fail start-up, CTS calls fail a cycle. */
interface FailureCodes {
  readonly unavailable: ErrorCode;
  readonly rejected: ErrorCode;
}

export const CTS_FAILURES: FailureCodes = {
  unavailable: ErrorCode.CTS_API_UNAVAILABLE,
  rejected: ErrorCode.CTS_API_REJECTED,
};
export const IAM_FAILURES: FailureCodes = {
  unavailable: ErrorCode.CLOUD_AUTH_FAILED,
  rejected: ErrorCode.CLOUD_AUTH_FAILED,
};

interface OtcHttpOptions {
  readonly fetch?: typeof fetch;
  readonly logger: Logger;
  /** Per attempt, connection to last body byte. */
  readonly requestTimeoutMs: number;
  readonly retry?: RetryOptions;
  readonly now: () => number;
}

/** Sends OTC requests with a timeout per attempt, one renewal on 401, and backoff retries. */
export interface OtcHttp {
  send(
    request: OtcRequest,
    context: { auth: Authenticator; failures: FailureCodes; hint?: string },
  ): Promise<OtcResponse>;
}

/** Statuses worth repeating: throttling, gateway trouble, a server error, a request timeout. */
function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function createOtcHttp(options: OtcHttpOptions): OtcHttp {
  const fetchImpl = options.fetch ?? fetch;

  async function attemptOnce(
    request: OtcRequest,
    context: { auth: Authenticator; failures: FailureCodes; hint?: string },
  ): Promise<OtcResponse> {
    const where = `${request.method} ${request.url.origin}${request.url.pathname}`;
    for (let renewed = false; ; renewed = true) {
      const base: Record<string, string> = {
        accept: "application/json",
        "content-type": "application/json;charset=utf8",
        ...request.headers,
      };
      const headers = await context.auth.headers(request, base);
      const timeout = AbortSignal.timeout(options.requestTimeoutMs);
      const signal =
        request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
      let response: Response;
      let text: string;
      try {
        ({ response, text } = await traceOtcRequest(request, async () => {
          const answer = await fetchImpl(request.url, {
            method: request.method,
            headers,
            ...(request.body === undefined ? {} : { body: request.body }),
            signal,
          });
          return { response: answer, text: await answer.text() };
        }));
      } catch (error) {
        if (request.signal?.aborted === true) throw request.signal.reason;
        const timedOut = timeout.aborted;
        throw new AppError(
          context.failures.unavailable,
          timedOut
            ? `${request.what} timed out after ${options.requestTimeoutMs} ms (${where})`
            : `${request.what} could not reach ${request.url.origin} (${where}): ${networkReason(error)}`,
          { cause: error, retryable: true, details: { reason: timedOut ? "timeout" : "network" } },
        );
      }
      if (response.ok) return { status: response.status, headers: response.headers, text };
      if (response.status === 401 && !renewed && context.auth.renew()) {
        options.logger.info(
          { what: request.what },
          "credentials expired; renewing and repeating the request",
        );
        continue;
      }
      throw statusError({ request, response, text, where, context, now: options.now() });
    }
  }

  return {
    send(request, context) {
      return retry(() => attemptOnce(request, context), {
        ...options.retry,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        onRetry: (event) => {
          options.logger.warn(
            {
              what: request.what,
              attempt: event.attempt,
              delayMs: event.delayMs,
              reason: event.error instanceof AppError ? event.error.details["reason"] : undefined,
              status: event.error instanceof AppError ? event.error.details["status"] : undefined,
            },
            "OTC request failed; retrying",
          );
          options.retry?.onRetry?.(event);
        },
      });
    },
  };
}

/** undici says only "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND...) is the cause. */
function networkReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? `${message} (${cause.code})` : message;
}

function statusError(input: {
  request: OtcRequest;
  response: Response;
  text: string;
  where: string;
  context: { auth: Authenticator; failures: FailureCodes; hint?: string };
  now: number;
}): AppError {
  const { request, response, where, context } = input;
  const status = response.status;
  const parsed = parseServiceError(input.text);
  // Keystone repeats the status as its code; "401 401:" says nothing twice.
  const service = parsed.code === String(status) ? { ...parsed, code: undefined } : parsed;
  const summary = `${request.what} failed: ${status} ${formatServiceError(service)} (${where})`;
  const details = { status, serviceCode: service.code ?? null };
  if (status === 401) {
    const hint =
      context.hint ??
      (context.auth.method === "aksk"
        ? "check the access key, the secret key and the clock (signatures expire after 15 minutes)"
        : "check the credentials in clouds.yaml");
    return new AppError(ErrorCode.CLOUD_AUTH_FAILED, `${summary}; ${hint}`, { details });
  }
  if (isTransientStatus(status)) {
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), input.now);
    return new AppError(context.failures.unavailable, summary, {
      retryable: true,
      details: {
        ...details,
        reason: status === 429 ? "throttled" : "server-error",
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
    });
  }
  const hint = context.hint === undefined ? "" : `; ${context.hint}`;
  return new AppError(context.failures.rejected, `${summary}${hint}`, { details });
}
