import { codeAsString, type CtsTrace } from "../cts/trace.js";

/** Where a trace came from: what the exporter knows beyond the trace itself. */
export interface TraceOrigin {
  /** The project's CTS v3 endpoint, e.g. https://cts.eu-de.otc.t-systems.com/v3/<project_id>. */
  readonly source: string;
  readonly region: string;
  readonly projectId: string;
  /**
   * The polled account's (domain's) id, from IAM for the credentials used: the `domain`
   * extension of every event. Never the acting user's domain, which differs for users of
   * other accounts (agencies, switched roles) and stays in `data.user.domain`.
   */
  readonly domainId: string | undefined;
}

/** The CloudEvent attributes of one trace (docs/event-contract.md section 1), without `data`. */
interface TraceEventAttributes {
  readonly specversion: "1.0";
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string;
  readonly time: string;
  readonly datacontenttype: "application/json";
  readonly extensions: Readonly<Record<string, string>>;
}

const nonEmpty = (value: string | null | undefined): value is string =>
  value !== null && value !== undefined && value.trim() !== "";

/** `<service_type>.<trace_type>.<resource_type>.<trace_name>`, lower-case, empty parts dropped. */
export function eventType(trace: CtsTrace): string {
  const parts = [trace.service_type, trace.trace_type, trace.resource_type, trace.trace_name];
  const type = parts.filter(nonEmpty).join(".").toLowerCase();
  return type === "" ? "cts.trace" : type;
}

/** The resource name, else the resource id, else nothing. */
function eventSubject(trace: CtsTrace): string | undefined {
  if (nonEmpty(trace.resource_name)) return trace.resource_name;
  if (nonEmpty(trace.resource_id)) return trace.resource_id;
  return undefined;
}

/**
 * Maps a trace to its CloudEvent attributes. Empty extension values are left out (an empty
 * string says nothing and some SDKs reject it). `overrides` (K_CE_OVERRIDES) are applied last.
 */
export function traceEventAttributes(
  trace: CtsTrace,
  origin: TraceOrigin,
  overrides: Readonly<Record<string, string>> = {},
): TraceEventAttributes {
  const extensions: Record<string, string> = {};
  const put = (name: string, value: string | null | undefined) => {
    if (nonEmpty(value)) extensions[name] = value;
  };
  put("status", trace.trace_rating);
  put("code", codeAsString(trace.code));
  put("resourceid", trace.resource_id);
  put("region", origin.region);
  put("domain", origin.domainId);
  put("tenant", origin.projectId);
  Object.assign(extensions, overrides);
  const subject = eventSubject(trace);
  return {
    specversion: "1.0",
    id: trace.trace_id,
    source: origin.source,
    type: eventType(trace),
    ...(subject === undefined ? {} : { subject }),
    time: new Date(trace.time).toISOString(),
    datacontenttype: "application/json",
    extensions,
  };
}
