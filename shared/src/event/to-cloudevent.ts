import { CloudEvent } from "cloudevents";
import type { CtsTrace, RawCtsTrace } from "../cts/trace.js";
import { traceEventAttributes, type TraceOrigin } from "./attributes.js";

/**
 * Builds the CloudEvent of one trace (docs/event-contract.md section 1) with the `cloudevents` package, which
 * validates it (strict mode: extension names, RFC 3339 time, URI-reference source). `raw` is the
 * trace exactly as CTS returned it and becomes `data`; `trace` is its parsed form.
 */
export function traceToCloudEvent(
  trace: CtsTrace,
  raw: RawCtsTrace,
  context: { origin: TraceOrigin; overrides?: Readonly<Record<string, string>> },
): CloudEvent<RawCtsTrace> {
  const { extensions, ...attributes } = traceEventAttributes(
    trace,
    context.origin,
    context.overrides,
  );
  return new CloudEvent<RawCtsTrace>({ ...attributes, ...extensions, data: raw }, true);
}
