import { rootCertificates } from "node:tls";
import { Agent, type Dispatcher } from "undici";
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

/** Characters of a sink's answer kept for messages. */
const ANSWER_LIMIT = 2_000;
/** Bytes read of an answer: enough for ANSWER_LIMIT characters of any UTF-8 text. */
const ANSWER_BYTES = 4 * ANSWER_LIMIT;

function encode(events: readonly TraceEvent[], mode: HttpTransportOptions["mode"]): HttpMessage {
  if (mode === "batch") return batchMessage(events);
  const [event] = events;
  if (event === undefined || events.length !== 1) {
    throw new RangeError(`${mode} mode sends exactly one event per request, got ${events.length}`);
  }
  return mode === "binary" ? binaryMessage(event) : structuredMessage(event);
}

/** `Name: message: cause` of a failed request, as the logs and metrics show it. */
function describeFailure(error: unknown): string {
  const cause =
    error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return error instanceof Error ? `${error.name}: ${error.message}${cause}` : String(error);
}

/**
 * One request's callbacks from undici: keeps the status, Retry-After and the first bytes of the
 * answer, and settles exactly once, with the answer or with the failure (refused connection,
 * reset, timeout, shutdown). Never throws: every outcome is an AttemptResult.
 */
class AnswerHandler implements Dispatcher.DispatchHandler {
  #status = 0;
  #retryAfter: string | null = null;
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #controller: Dispatcher.DispatchController | undefined;
  /** An abort that came before the request reached a connection. */
  #abortReason: Error | undefined;
  #settle: ((result: AttemptResult) => void) | undefined;
  /** The caller's signal: aborting it abandons the request. */
  readonly signal: AbortSignal;

  constructor(settle: (result: AttemptResult) => void, signal: AbortSignal) {
    this.#settle = settle;
    this.signal = signal;
  }

  abort(reason: Error): void {
    if (this.#controller === undefined) this.#abortReason ??= reason;
    else this.#controller.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason !== undefined) controller.abort(this.#abortReason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.#status = statusCode;
    const retryAfter = headers["retry-after"];
    this.#retryAfter = (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#bytes >= ANSWER_BYTES) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }

  onResponseEnd(): void {
    const body =
      this.#chunks.length === 0
        ? ""
        : Buffer.concat(this.#chunks).subarray(0, ANSWER_BYTES).toString("utf8");
    this.#done({
      kind: "response",
      status: this.#status,
      retryAfter: this.#retryAfter,
      body: body.slice(0, ANSWER_LIMIT),
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    this.#done({ kind: "network-error", message: describeFailure(error) });
  }

  #done(result: AttemptResult): void {
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.(result);
  }
}

/**
 * POSTs CloudEvents to K_SINK over keep-alive connections, one attempt per call. Our own
 * transport because the cloudevents package's httpTransport ignores status codes; undici's
 * dispatcher (the engine under Node's fetch) because fetch cannot be given extra CA certificates
 * (K_CA_CERTS), and used through `dispatch` with a handler that keeps only what the core needs:
 * fetch's WHATWG objects, and even undici's `request` (a response stream, an AbortSignal
 * listener and an async resource per call), cost about as much as the rest of an event's
 * handling at thousands of requests a second.
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
  const origin = options.sink.origin;
  const path = `${options.sink.pathname}${options.sink.search}`;

  // Requests in flight, so a caller's signal aborts them all through one listener per signal
  // (one per cycle) instead of a listener added and removed for every request.
  const inFlight = new Set<AnswerHandler>();
  const watched = new WeakSet<AbortSignal>();
  const watch = (signal: AbortSignal) => {
    if (watched.has(signal)) return;
    watched.add(signal);
    signal.addEventListener(
      "abort",
      () => {
        for (const handler of inFlight) {
          if (handler.signal === signal) handler.abort(abortReason(signal));
        }
      },
      { once: true },
    );
  };

  // Async, so an event that cannot be encoded is a rejected attempt, not a synchronous throw.
  const attemptOnce = async (
    events: readonly TraceEvent[],
    signal: AbortSignal,
    trace: TraceContextFields | undefined,
  ): Promise<AttemptResult> => {
    const message = encode(
      trace === undefined ? events : withTraceContext(events, trace),
      options.mode,
    );
    const token = options.bearerToken?.();
    const headers =
      trace === undefined && token === undefined
        ? message.headers
        : {
            ...message.headers,
            ...(trace === undefined ? {} : traceHeaders(trace)),
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          };
    return await new Promise<AttemptResult>((resolve) => {
      // One timer per request, cleared as soon as the answer is read: the whole request,
      // connection to last byte, gets timeoutMs.
      const timer = setTimeout(() => {
        handler.abort(new DOMException(`no answer within ${options.timeoutMs} ms`, "TimeoutError"));
      }, options.timeoutMs);
      const handler = new AnswerHandler((result) => {
        clearTimeout(timer);
        inFlight.delete(handler);
        resolve(result);
      }, signal);
      inFlight.add(handler);
      watch(signal);
      if (signal.aborted) handler.abort(abortReason(signal));
      // Never throws: undici hands a refused request (bad header, closed agent) to
      // onResponseError, so it becomes a network error like any other.
      dispatcher.dispatch({ origin, path, method: "POST", headers, body: message.body }, handler);
    });
  };
  return {
    mode: options.mode,
    attempt: (events, signal) =>
      traceDelivery({ sink: options.sink, events }, (trace) => attemptOnce(events, signal, trace)),
    close: () => dispatcher.close(),
  };
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException("the delivery was abandoned", "AbortError");
}
