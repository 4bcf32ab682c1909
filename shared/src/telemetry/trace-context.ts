import {
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
  type TraceState,
} from "@opentelemetry/api";

/** The W3C Trace Context pair, as headers and as CloudEvents distributed-tracing extensions. */
export interface TraceContextFields {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** W3C tracestate: at most 32 `key=value` list members, the newest first. */
const MAX_MEMBERS = 32;

/**
 * A received tracestate, kept as the sender wrote it. The API's own constructor is deprecated
 * in favour of @opentelemetry/core's, which this light module (loaded with tracing off too)
 * does not import.
 */
class ReceivedTraceState implements TraceState {
  private readonly members: ReadonlyMap<string, string>;
  constructor(members: ReadonlyMap<string, string>) {
    this.members = members;
  }
  set(key: string, value: string): TraceState {
    const next = new Map([[key, value]]);
    for (const [k, v] of this.members) if (k !== key && next.size < MAX_MEMBERS) next.set(k, v);
    return new ReceivedTraceState(next);
  }
  unset(key: string): TraceState {
    const next = new Map(this.members);
    next.delete(key);
    return new ReceivedTraceState(next);
  }
  get(key: string): string | undefined {
    return this.members.get(key);
  }
  serialize(): string {
    return [...this.members].map(([key, value]) => `${key}=${value}`).join(",");
  }
}

function parseTraceState(value: string): TraceState {
  const members = new Map<string, string>();
  for (const member of value.split(",")) {
    const at = member.indexOf("=");
    if (at <= 0) continue;
    const key = member.slice(0, at).trim();
    if (!members.has(key) && members.size < MAX_MEMBERS)
      members.set(key, member.slice(at + 1).trim());
  }
  return new ReceivedTraceState(members);
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/**
 * `traceparent` (version 00) and `tracestate` of a span context: the same values the W3C
 * propagator writes as HTTP headers, so an event's extension and its request's header agree
 * (the CloudEvents distributed-tracing extension requires that for a single hop).
 */
export function traceContextFields(span: SpanContext): TraceContextFields {
  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, "0");
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const state = span.traceState?.serialize();
  return state === undefined || state === "" ? { traceparent } : { traceparent, tracestate: state };
}

/**
 * A remote parent context from a `traceparent` (and `tracestate`) value, or undefined when the
 * value is not a valid W3C traceparent (all-zero ids, version ff, malformed).
 */
export function contextFromTraceparent(
  traceparent: string | undefined,
  tracestate?: string,
): Context | undefined {
  if (traceparent === undefined) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
  if (match === null) return undefined;
  const [, version, traceId = "", spanId = "", flags = "00"] = match;
  // Version 00 has exactly four fields; a later version may append more.
  if (version === "ff" || (version === "00" && traceparent.trim().length !== 55)) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate === undefined || tracestate.trim() === ""
      ? {}
      : { traceState: parseTraceState(tracestate) }),
  };
  if (!isSpanContextValid(spanContext)) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}
