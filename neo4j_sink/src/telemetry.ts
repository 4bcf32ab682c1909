/**
 * The sink's spans (README, "Observability"): the HTTP receive (`POST /`, continuing the
 * sender's trace), each request's wait in the write queue, and the Neo4j transaction. Every
 * function returns undefined or runs its work directly, with no span, unless the SDK was started.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
} from "@opentelemetry/api";
import { contextFromTraceparent, telemetryActive } from "@cts/shared";
import type { WriteTracer } from "./core/ports.js";

const tracer = () => trace.getTracer("neo4j_sink");

/** Most links a transaction span carries to the requests it wrote (OpenTelemetry's default cap). */
const MAX_LINKS = 128;

type Headers = Readonly<Record<string, readonly string[] | undefined>>;

/** The received side of one request's trace: created at arrival, the span once the parent is known. */
export interface ReceiveTrace {
  /** Starts the server span; its parent is the request's trace headers, else the first event's extension. */
  parsed(
    events: readonly {
      readonly id: string;
      readonly type: string;
      readonly extensions: Readonly<Record<string, string>>;
    }[],
    mode: string,
  ): void;
  /** Runs `work` with the server span active (the write queue picks it up). */
  within<T>(work: () => Promise<T>): Promise<T>;
  /** Ends the server span with the answer's status. */
  finish(status: number, error?: { readonly code: string; readonly message: string }): void;
}

function headerCarrier(headers: Headers): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const [name, values] of Object.entries(headers)) {
    if (values !== undefined && values.length > 0) carrier[name] = values.join(",");
  }
  return carrier;
}

/**
 * Begins the trace of one `POST /`: undefined when tracing is off. The span is created only
 * after parsing, so that an event whose request has no trace headers (a structured or batch
 * request from a sender that traces only through the CloudEvents extension) still joins its
 * sender's trace; its start time is the request's arrival.
 */
export function receiveTrace(headers: Headers): ReceiveTrace | undefined {
  if (!telemetryActive()) return undefined;
  // Relative to performance.timeOrigin, as the SDK reads it, so this span's times and those of
  // spans started without an explicit time share one clock.
  const arrival = performance.now();
  const fromHeaders = propagation.extract(ROOT_CONTEXT, headerCarrier(headers));
  let span: Span | undefined;
  const start = (parent: Context, attributes: Record<string, string | number>) => {
    span ??= tracer().startSpan(
      "POST /",
      {
        kind: SpanKind.SERVER,
        startTime: arrival,
        attributes: {
          "http.request.method": "POST",
          "http.route": "/",
          "url.path": "/",
          ...attributes,
        },
      },
      parent,
    );
    return span;
  };
  return {
    parsed(events, mode) {
      const first = events[0];
      const extension =
        first === undefined
          ? undefined
          : contextFromTraceparent(first.extensions["traceparent"], first.extensions["tracestate"]);
      const parent =
        trace.getSpanContext(fromHeaders) !== undefined ? fromHeaders : (extension ?? ROOT_CONTEXT);
      start(parent, {
        "cloudevents.event_count": events.length,
        "neo4j_sink.content_mode": mode,
        ...(events.length === 1 && first !== undefined
          ? { "cloudevents.event_id": first.id, "cloudevents.event_type": first.type }
          : {}),
      });
    },
    within(work) {
      return span === undefined
        ? work()
        : context.with(trace.setSpan(context.active(), span), work);
    },
    finish(status, error) {
      const current = start(fromHeaders, {});
      current.setAttribute("http.response.status_code", status);
      if (status >= 500)
        current.setStatus({ code: SpanStatusCode.ERROR, message: error?.message ?? "" });
      if (error !== undefined && status >= 400) current.setAttribute("error.type", error.code);
      current.end();
    },
  };
}

/** One request's place in the write queue: its wait span and the context its writes belong to. */
export interface QueuedTrace {
  readonly parent: Context;
  /** Ends the wait (the request's first transaction starts); later calls do nothing. */
  dequeued(): void;
}

/** Starts the `neo4j_sink.queue_wait` span of a request entering the write queue; undefined when off. */
export function queuedTrace(events: number): QueuedTrace | undefined {
  if (!telemetryActive()) return undefined;
  const parent = context.active();
  const span = tracer().startSpan(
    "neo4j_sink.queue_wait",
    { kind: SpanKind.INTERNAL, attributes: { "neo4j_sink.request.events": events } },
    parent,
  );
  let waiting = true;
  return {
    parent,
    dequeued() {
      if (!waiting) return;
      waiting = false;
      span.end();
    },
  };
}

/**
 * Runs one write transaction as the span `neo4j_sink.transaction`. A transaction carries the
 * events of several requests, possibly of several traces: it is a child of the first request
 * and links to the others, the usual shape for batch processing.
 */
export async function traceTransaction<T>(
  requests: readonly (QueuedTrace | undefined)[],
  batch: { readonly events: number },
  work: () => Promise<T>,
): Promise<T> {
  const traced = [...new Set(requests.filter((request) => request !== undefined))];
  const [first, ...others] = traced;
  if (first === undefined) return work();
  for (const request of traced) request.dequeued();
  const links: Link[] = [];
  for (const request of others.slice(0, MAX_LINKS)) {
    const linked = trace.getSpanContext(request.parent);
    if (linked !== undefined) links.push({ context: linked });
  }
  const span = tracer().startSpan(
    "neo4j_sink.transaction",
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "db.system.name": "neo4j",
        "db.operation.name": "write transaction",
        "neo4j_sink.batch.events": batch.events,
        "neo4j_sink.batch.requests": traced.length,
      },
      links,
    },
    first.parent,
  );
  try {
    return await work();
  } catch (error) {
    span.setAttribute("error.type", (error as { code?: unknown }).code?.toString() ?? "unknown");
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

/** The write queue's tracer (core/batch-writer.ts); each part does nothing when tracing is off. */
export const writeTracer: WriteTracer<QueuedTrace> = {
  enqueued: queuedTrace,
  transaction: traceTransaction,
};
