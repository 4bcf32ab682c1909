import { CloudEvent, type CloudEventV1 } from "cloudevents";
import type { CtsTrace, RawCtsTrace } from "../cts/trace.js";
import { traceEventAttributes, type TraceOrigin } from "./trace-attributes.js";

/** One trace's CloudEvent: the attributes and extensions flat, the trace as CTS returned it in `data`. */
export type TraceCloudEvent = Readonly<CloudEventV1<RawCtsTrace>>;

/** Shapes (source, extension names, override values) already validated; bounded. */
const validatedShapes = new Set<string>();
const MAX_SHAPES = 1_000;

/**
 * Validates what the `cloudevents` package would (strict mode: extension names, URI-reference
 * source, attribute names), but only once per shape: everything that could fail is either the
 * same for every trace of a project (source, K_CE_OVERRIDES) or valid by construction
 * (`traceEventAttributes`: id of 1-256 chars, non-empty type and subject, `toISOString` time).
 * Constructing a validated CloudEvent per trace cost the exporter about 5% of its CPU and much
 * of its garbage at thousands of events a second.
 */
function validateShape(
  event: TraceCloudEvent,
  extensionNames: readonly string[],
  overrides: Readonly<Record<string, string>> | undefined,
): void {
  const key = `${event.source}\u0000${extensionNames.join(",")}\u0000${JSON.stringify(overrides ?? {})}`;
  if (validatedShapes.has(key)) return;
  // Throws a ValidationError for an invalid extension name, source, or attribute.
  new CloudEvent<RawCtsTrace>({ ...event }, true);
  if (validatedShapes.size >= MAX_SHAPES) validatedShapes.clear();
  validatedShapes.add(key);
}

/**
 * Builds the CloudEvent of one trace (docs/event-contract.md section 1) as a plain frozen object,
 * validated as the `cloudevents` package validates (see validateShape). `raw` is the trace
 * exactly as CTS returned it and becomes `data`; `trace` is its parsed form.
 */
export function traceToCloudEvent(
  trace: CtsTrace,
  raw: RawCtsTrace,
  context: { origin: TraceOrigin; overrides?: Readonly<Record<string, string>> },
): TraceCloudEvent {
  const { extensions, ...attributes } = traceEventAttributes(
    trace,
    context.origin,
    context.overrides,
  );
  const event: TraceCloudEvent = Object.freeze({ ...attributes, ...extensions, data: raw });
  validateShape(event, Object.keys(extensions), context.overrides);
  return event;
}
