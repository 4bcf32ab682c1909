import { existsSync, readFileSync } from "node:fs";

/** An attribute value as OTLP/JSON encodes it (one of the fields is set). */
interface AnyValue {
  readonly stringValue?: string;
  readonly intValue?: string | number;
  readonly doubleValue?: number;
  readonly boolValue?: boolean;
  readonly arrayValue?: { readonly values?: readonly AnyValue[] };
}
interface KeyValue {
  readonly key: string;
  readonly value?: AnyValue;
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind?: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes?: readonly KeyValue[];
  readonly links?: readonly { traceId: string; spanId: string }[];
  readonly status?: { code?: number; message?: string };
}
interface TracesRequest {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: readonly KeyValue[] };
    readonly scopeSpans?: readonly { readonly spans?: readonly OtlpSpan[] }[];
  }[];
}

export type AttributeValue = string | number | boolean | readonly (string | number | boolean)[];

/** One received span, flattened for assertions and printing. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** The resource's service.name. */
  readonly service: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  readonly startNs: bigint;
  readonly endNs: bigint;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
}

function valueOf(value: AnyValue | undefined): AttributeValue {
  if (value === undefined) return "";
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  const items = value.arrayValue?.values ?? [];
  return items.map((item) => {
    const scalar = valueOf(item);
    return Array.isArray(scalar) ? JSON.stringify(scalar) : (scalar as string | number | boolean);
  });
}

function attributesOf(list: readonly KeyValue[] | undefined): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) attributes[key] = valueOf(value);
  return attributes;
}

/**
 * Reads the spans the collector's file exporter wrote (one OTLP/JSON export request a line).
 * A line still being written is skipped; the next read sees it whole.
 */
export function readSpans(file: string): ReceivedSpan[] {
  if (!existsSync(file)) return [];
  const spans: ReceivedSpan[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let request: TracesRequest;
    try {
      request = JSON.parse(line) as TracesRequest;
    } catch {
      continue;
    }
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"]);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? "",
            name: span.name,
            kind: span.kind ?? 0,
            service,
            attributes: attributesOf(span.attributes),
            links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
            startNs: BigInt(span.startTimeUnixNano),
            endNs: BigInt(span.endTimeUnixNano),
            statusCode: span.status?.code ?? 0,
          });
        }
      }
    }
  }
  return spans;
}

/** The chain from `span` up to its trace's root, `span` first (stops at a missing parent). */
export function ancestry(span: ReceivedSpan, spans: readonly ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(spans.filter((s) => s.traceId === span.traceId).map((s) => [s.spanId, s]));
  const chain = [span];
  let current = span;
  while (current.parentSpanId !== "") {
    const parent = byId.get(current.parentSpanId);
    if (parent === undefined || chain.includes(parent)) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}

const KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"];
const SHOWN = [
  "http.request.method",
  "url.full",
  "http.response.status_code",
  "cloudevents.event_id",
  "cloudevents.event_count",
  "neo4j_sink.batch.events",
  "cts.traces.collected",
];

/** A trace as an indented tree, for the demo and for failing assertions. */
export function formatTrace(traceId: string, spans: readonly ReceivedSpan[]): string {
  const members = spans.filter((span) => span.traceId === traceId);
  const ids = new Set(members.map((span) => span.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  for (const span of members) {
    const parent = ids.has(span.parentSpanId) ? span.parentSpanId : "";
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const start = members.reduce(
    (min, s) => (s.startNs < min ? s.startNs : min),
    members[0]?.startNs ?? 0n,
  );
  const lines = [`trace ${traceId}`];
  const walk = (parent: string, depth: number) => {
    const list = [...(children.get(parent) ?? [])].sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    for (const span of list) {
      const ms = (ns: bigint) => (Number(ns) / 1e6).toFixed(1);
      const shown = SHOWN.filter((key) => span.attributes[key] !== undefined)
        .map((key) => `${key}=${JSON.stringify(span.attributes[key])}`)
        .join(" ");
      lines.push(
        `${"  ".repeat(depth + 1)}${span.service}: ${span.name} (${KINDS[span.kind] ?? span.kind}) ` +
          `+${ms(span.startNs - start)}ms ${ms(span.endNs - span.startNs)}ms ${shown}`.trimEnd(),
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk("", 0);
  return lines.join("\n");
}
