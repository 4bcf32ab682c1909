import { codeAsString, jsonishAsString } from "@cts/shared";
import type { ReceivedEvent } from "./cloudevent-parser.js";

/**
 * Everything the graph of contract section 5 needs from one event, flat and JSON-safe, so it can
 * be passed to Neo4j as a query parameter as it is. Absent values are null (Cypher's "no value").
 */
export interface GraphRow {
  /** Action.id = trace_id. */
  readonly id: string;
  readonly name: string | null;
  readonly traceType: string | null;
  readonly rating: string | null;
  readonly code: string | null;
  /** RFC 3339 UTC; stored as a DateTime by the query. */
  readonly time: string;
  readonly recordTime: string | null;
  readonly service: string | null;
  readonly resourceType: string | null;
  readonly sourceIp: string | null;
  readonly apiVersion: string | null;
  readonly requestId: string | null;
  readonly message: string | null;
  readonly request: string | null;
  readonly response: string | null;
  readonly truncated: boolean;
  readonly eventType: string;
  readonly eventSource: string;
  readonly userId: string | null;
  readonly userName: string | null;
  readonly domainId: string | null;
  readonly domainName: string | null;
  readonly resourceKey: string | null;
  readonly resourceId: string | null;
  readonly resourceName: string | null;
  readonly projectId: string;
  readonly regionId: string;
}

/** Options of the mapping. */
export interface RowOptions {
  /** Bound on `request`, `response` and `message`, in UTF-16 code units. */
  readonly maxTextChars: number;
}

/** Project and region when neither the event nor its source names them. */
export const UNKNOWN = "unknown";

const text = (value: string | null | undefined): string | null =>
  value === null || value === undefined || value.trim() === "" ? null : value;

/** Cuts `value` to `max` code units without splitting a surrogate pair. */
export function truncateText(value: string, max: number): { text: string; truncated: boolean } {
  if (value.length <= max) return { text: value, truncated: false };
  let end = max;
  const last = value.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return { text: value.slice(0, end), truncated: true };
}

const PROJECT_IN_SOURCE = /\/v\d+(?:\.\d+)?\/([0-9A-Za-z_-]+)\/?$/;
const REGION_IN_SOURCE = /^https?:\/\/cts\.([a-z0-9-]+)\./i;

/**
 * The project and region of an event: the `tenant` and `region` extensions, else what the
 * CTS endpoint in `source` says (https://cts.<region>.../v3/<project_id>), else "unknown".
 */
function placeOf(event: ReceivedEvent): { projectId: string; regionId: string } {
  const projectId =
    text(event.extensions["tenant"]) ?? PROJECT_IN_SOURCE.exec(event.source)?.[1] ?? UNKNOWN;
  const regionId =
    text(event.extensions["region"]) ?? REGION_IN_SOURCE.exec(event.source)?.[1] ?? UNKNOWN;
  return { projectId, regionId };
}

/** The User key: user.id, else `<domain name>/<user name>` (domain id when the name is absent). */
function userOf(event: ReceivedEvent) {
  const user = event.trace.user;
  const userName = text(user?.name);
  const domainId = text(user?.domain?.id) ?? text(event.extensions["domain"]);
  const domainName = text(user?.domain?.name);
  let userId = text(user?.id);
  if (userId === null && userName !== null) userId = `${domainName ?? domainId ?? ""}/${userName}`;
  if (userId === null) return { userId, userName, domainId: null, domainName: null };
  return { userId, userName, domainId, domainName };
}

/** The Resource key `<service_type>/<resource_type>/<resource_id or resource_name>`. */
function resourceOf(event: ReceivedEvent) {
  const trace = event.trace;
  const resourceId = text(trace.resource_id);
  const resourceName = text(trace.resource_name);
  const handle = resourceId ?? resourceName;
  const resourceKey =
    handle === null
      ? null
      : `${text(trace.service_type) ?? ""}/${text(trace.resource_type) ?? ""}/${handle}`;
  return { resourceKey, resourceId, resourceName };
}

/** Maps one received event to its graph row (contract section 5). Pure and total. */
export function eventToGraphRow(event: ReceivedEvent, options: RowOptions): GraphRow {
  const trace = event.trace;
  let truncated = false;
  const bounded = (value: unknown): string | null => {
    const full = jsonishAsString(value);
    if (full === undefined) return null;
    const cut = truncateText(full, options.maxTextChars);
    truncated ||= cut.truncated;
    return cut.text;
  };
  const message = bounded(trace.message);
  const request = bounded(trace.request);
  const response = bounded(trace.response);
  return {
    id: trace.trace_id,
    name: text(trace.trace_name),
    traceType: text(trace.trace_type),
    rating: text(trace.trace_rating),
    code: codeAsString(trace.code) ?? null,
    time: new Date(trace.time).toISOString(),
    recordTime:
      trace.record_time === null || trace.record_time === undefined
        ? null
        : new Date(trace.record_time).toISOString(),
    service: text(trace.service_type),
    resourceType: text(trace.resource_type),
    sourceIp: text(trace.source_ip),
    apiVersion: text(trace.api_version),
    requestId: text(trace.request_id),
    message,
    request,
    response,
    truncated,
    eventType: event.type,
    eventSource: event.source,
    ...userOf(event),
    ...resourceOf(event),
    ...placeOf(event),
  };
}
