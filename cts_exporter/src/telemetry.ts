/**
 * The exporter's spans (README, "Observability"): one trace per poll cycle, a client span per
 * CTS/IAM request and per delivery request, and the delivery's trace context on the request
 * (W3C headers) and on every event it carries (CloudEvents distributed-tracing extension).
 * Every function here runs its work directly, with no span, unless the SDK was started.
 */
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type SpanOptions,
} from "@opentelemetry/api";
import { telemetryActive, traceContextFields, type TraceContextFields } from "@cts/shared";
import type { CycleSummary } from "./core/cycle.js";
import type { AttemptResult, TraceEvent } from "./core/ports.js";

const tracer = () => trace.getTracer("cts_exporter");

/** `url.full` without credentials (a URL may carry user info or a signed query). */
function safeUrl(url: URL): string {
  if (url.username === "" && url.password === "") return url.href;
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy.href;
}

function serverAttributes(url: URL) {
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  return { "server.address": url.hostname, "server.port": port, "url.full": safeUrl(url) };
}

/** The sink's attributes are the same on every delivery: computed once per sink URL. */
const sinkAttributes = new Map<string, Readonly<Record<string, string | number>>>();
function deliveryAttributes(sink: URL): Readonly<Record<string, string | number>> {
  let attributes = sinkAttributes.get(sink.href);
  if (attributes === undefined) {
    attributes = { "http.request.method": "POST", ...serverAttributes(sink) };
    sinkAttributes.set(sink.href, attributes);
  }
  return attributes;
}

function failed(span: Span, error: unknown): void {
  span.setAttribute("error.type", error instanceof Error ? error.name : "unknown");
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Runs `run` in a new active span that `annotate` describes from the result; a throw marks the
 * span failed and passes on. The span ends either way.
 */
function inSpan<T>(
  { name, ...options }: SpanOptions & { readonly name: string },
  run: () => Promise<T>,
  annotate: (span: Span, result: T) => void,
): Promise<T> {
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      const result = await run();
      annotate(span, result);
      return result;
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs one poll cycle as the root span `cts_exporter.cycle` of a new trace; the CTS requests and
 * deliveries made during it become its children.
 */
export function traceCycle(
  tracker: string,
  run: () => Promise<CycleSummary>,
): Promise<CycleSummary> {
  if (!telemetryActive()) return run();
  const cycle = {
    name: "cts_exporter.cycle",
    kind: SpanKind.INTERNAL,
    root: true,
    attributes: { "cts.tracker": tracker },
  };
  return inSpan(cycle, run, (span, summary) => {
    span.setAttributes({
      "cts.window.from": new Date(summary.window.from).toISOString(),
      "cts.window.to": new Date(summary.window.to).toISOString(),
      "cts.traces.collected": summary.collected,
      "cts.events.sent": summary.sent,
      "cts.events.failed": summary.failed,
      "cts.events.rejected": summary.rejected,
      "cts.traces.duplicates": summary.duplicates,
    });
    if (!summary.ok) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: summary.error ?? "incomplete" });
    }
  });
}

/**
 * An HTTP client span around one request to OTC (IAM or CTS; `what` names it, e.g. "CTS trace
 * list"). Ends with the response status; a status of 400 or more marks it as an error.
 */
export function traceOtcRequest<T extends { readonly response: { readonly status: number } }>(
  request: { readonly method: string; readonly url: URL; readonly what: string },
  run: () => Promise<T>,
): Promise<T> {
  if (!telemetryActive()) return run();
  const client = {
    name: request.method,
    kind: SpanKind.CLIENT,
    attributes: {
      "http.request.method": request.method,
      ...serverAttributes(request.url),
      "otc.request": request.what,
    },
  };
  return inSpan(client, run, (span, answer) => {
    const status = answer.response.status;
    span.setAttribute("http.response.status_code", status);
    if (status >= 400) {
      span.setAttribute("error.type", String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  });
}

/**
 * An HTTP client span `POST` around one delivery attempt. `send` gets the attempt's trace
 * context (undefined when tracing is off) to put on the request headers and on every event:
 * for a single hop the extension and the headers carry the same values.
 */
export function traceDelivery(
  request: { readonly sink: URL; readonly events: readonly TraceEvent[] },
  send: (context: TraceContextFields | undefined) => Promise<AttemptResult>,
): Promise<AttemptResult> {
  if (!telemetryActive()) return send(undefined);
  const first = request.events[0];
  return tracer().startActiveSpan(
    "POST",
    {
      kind: SpanKind.CLIENT,
      attributes: {
        ...deliveryAttributes(request.sink),
        "cloudevents.event_count": request.events.length,
        ...(request.events.length === 1 && first !== undefined
          ? { "cloudevents.event_id": first.id }
          : {}),
      },
    },
    async (span) => {
      try {
        const result = await send(traceContextFields(span.spanContext()));
        if (result.kind === "response") {
          span.setAttribute("http.response.status_code", result.status);
          if (result.status >= 400) {
            span.setAttribute("error.type", String(result.status));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
        } else {
          span.setAttribute("error.type", "network");
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.message });
        }
        return result;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * The request headers for a traced delivery: what the configured propagators write for the
 * active span (W3C traceparent/tracestate and baggage by default), plus the W3C pair itself,
 * so the sink can continue the trace whatever OTEL_PROPAGATORS says.
 */
export function traceHeaders(fields: TraceContextFields): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return { ...headers, ...fields };
}

/** The events with the distributed-tracing extension set to this attempt's trace context. */
export function withTraceContext(
  events: readonly TraceEvent[],
  fields: TraceContextFields,
): TraceEvent[] {
  return events.map((event) => ({ ...event, ...fields }));
}
