import { rootCertificates } from "node:tls";
import { Agent, request } from "undici";
import {
  batchMessage,
  binaryMessage,
  structuredMessage,
  type HttpMessage,
  type TraceContextFields,
} from "@cts/shared";
import type { AttemptResult, EventTransport, TraceEvent } from "../core/ports.js";
import { traceDelivery, traceHeaders, withTraceContext } from "../telemetry.js";

interface HttpTransportOptions {
  readonly sink: URL;
  readonly mode: "binary" | "structured" | "batch";
  readonly timeoutMs: number;
  /** Keep-alive connections to the sink; match the delivery concurrency. */
  readonly connections: number;
  /** K_CA_CERTS: extra PEM trusted for an https sink, on top of the system roots. */
  readonly caCerts: string | undefined;
  /** The sender's OIDC token, when there is one: sent as `Authorization: Bearer`. */
  readonly bearerToken?: () => string | undefined;
}

const ANSWER_LIMIT = 2_000;

function encode(events: readonly TraceEvent[], mode: HttpTransportOptions["mode"]): HttpMessage {
  if (mode === "batch") return batchMessage(events);
  const [event] = events;
  if (event === undefined || events.length !== 1) {
    throw new RangeError(`${mode} mode sends exactly one event per request, got ${events.length}`);
  }
  return mode === "binary" ? binaryMessage(event) : structuredMessage(event);
}

/**
 * POSTs CloudEvents to K_SINK over keep-alive connections, one attempt per call. Our own
 * transport because the cloudevents package's httpTransport ignores status codes; undici's
 * `request` (the engine under Node's fetch) because fetch cannot be given extra CA certificates
 * (K_CA_CERTS) and its WHATWG Request/Response/stream objects cost more than the event itself at
 * thousands of events a second.
 */
export function createHttpTransport(
  options: HttpTransportOptions,
): EventTransport & { close(): Promise<void> } {
  // Node's `ca` replaces the default roots, so the system roots are added back explicitly.
  const ca = options.caCerts === undefined ? undefined : [...rootCertificates, options.caCerts];
  const dispatcher = new Agent({
    connections: options.connections,
    keepAliveTimeout: 30_000,
    ...(ca === undefined ? {} : { connect: { ca } }),
  });
  const attemptOnce = async (
    events: readonly TraceEvent[],
    signal: AbortSignal,
    trace: TraceContextFields | undefined,
  ): Promise<AttemptResult> => {
    const message = encode(
      trace === undefined ? events : withTraceContext(events, trace),
      options.mode,
    );
    // A controller per request, its timer cleared as soon as the answer is read: an
    // AbortSignal.timeout would keep every request (and its response) reachable for the whole
    // timeout, hundreds of MB at thousands of requests a second.
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(
        new DOMException(`no answer within ${options.timeoutMs} ms`, "TimeoutError"),
      );
    }, options.timeoutMs);
    const onAbort = () => {
      controller.abort(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const token = options.bearerToken?.();
      const response = await request(options.sink, {
        method: "POST",
        headers: {
          ...message.headers,
          ...(trace === undefined ? {} : traceHeaders(trace)),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: message.body,
        dispatcher,
        signal: controller.signal,
      });
      const body = await response.body.text();
      const retryAfter = response.headers["retry-after"];
      return {
        kind: "response",
        status: response.statusCode,
        retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null,
        body: body.slice(0, ANSWER_LIMIT),
      };
    } catch (error) {
      const cause =
        error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      const text =
        error instanceof Error ? `${error.name}: ${error.message}${cause}` : String(error);
      return { kind: "network-error", message: text };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  };
  return {
    mode: options.mode,
    attempt: (events, signal) =>
      traceDelivery({ sink: options.sink, events }, (trace) => attemptOnce(events, signal, trace)),
    close: () => dispatcher.close(),
  };
}
