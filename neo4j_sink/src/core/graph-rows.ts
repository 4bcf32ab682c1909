import { createHash } from "node:crypto";
import { codeAsString } from "@cts/shared";
import { boundedJson } from "./bounded-json.js";
import type { ReceivedEvent } from "./received-event.js";

/**
 * Everything the graph (docs/graph-model.md) needs from one event, flat and JSON-safe, so it can
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
  /** The CloudEvents distributed-tracing extension, as the sender set it (any sender). */
  readonly traceparent: string | null;
  readonly tracestate: string | null;
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

/**
 * Neo4j refuses to index a string property of more than about 8 KB ("Property value is too
 * large to index"). Keys and indexed names longer than this many UTF-16 units (at most 6 KB of
 * UTF-8) are shortened so such an event is stored instead of failing for good: a key keeps a
 * prefix plus a hash of the whole value, so distinct long keys stay distinct; a name keeps a prefix.
 */
const MAX_INDEXED_CHARS = 2000;

/** A key short enough to index, still unique for distinct long values. */
function indexableKey(value: string): string {
  if (value.length <= MAX_INDEXED_CHARS) return value;
  const digest = createHash("sha256").update(value, "utf8").digest("hex").slice(0, 32);
  return `${truncateText(value, MAX_INDEXED_CHARS - 40).text}…#${digest}`;
}

/** An indexed non-key value (a name) short enough to index. */
function indexableName(value: string | null): string | null {
  return value === null ? null : truncateText(value, MAX_INDEXED_CHARS).text;
}

const key = (value: string | null): string | null => (value === null ? null : indexableKey(value));

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

/**
 * Prefix of the fallback User key when only the domain id is known. A `:` cannot occur in an
 * OTC account (domain) name, so such a key never equals a `<domain name>/<user name>` key, even
 * when one account's name happens to read like another account's id.
 */
export const DOMAIN_ID_KEY_PREFIX = "id:";
/**
 * Domain part of the fallback User key when the trace names no domain at all. Parentheses and
 * spaces cannot occur in an account name or id, so it clashes with no real domain's user.
 */
export const UNKNOWN_DOMAIN_KEY = "(unknown domain)";

/**
 * The User key: user.id; without it `<domain name>/<user name>`; without a domain name
 * `id:<domain id>/<user name>`; without either `(unknown domain)/<user name>`. The three
 * fallback forms cannot equal each other or a user id.
 */
export function userKey(
  userId: string | null,
  userName: string,
  domain: { readonly id: string | null; readonly name: string | null },
): string {
  if (userId !== null) return userId;
  if (domain.name !== null) return `${domain.name}/${userName}`;
  if (domain.id !== null) return `${DOMAIN_ID_KEY_PREFIX}${domain.id}/${userName}`;
  return `${UNKNOWN_DOMAIN_KEY}/${userName}`;
}

/**
 * The acting user, its key (see {@link userKey}) and its domain. The key uses only the domain
 * the trace gives for the user: the `domain` extension is the polled account, which for an
 * agency or switched-role user is not the user's own, so keying by it could merge users of two
 * accounts. The BELONGS_TO link still falls back to the extension.
 */
function userOf(event: ReceivedEvent) {
  const user = event.trace.user;
  const userName = text(user?.name);
  const ownDomainId = text(user?.domain?.id);
  const domainName = text(user?.domain?.name);
  const id = text(user?.id);
  if (id === null && userName === null) {
    return { userId: null, userName, domainId: null, domainName: null };
  }
  const userId =
    userName === null ? id : userKey(id, userName, { id: ownDomainId, name: domainName });
  const domainId = ownDomainId ?? text(event.extensions["domain"]);
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

/** Keys and indexed names within what Neo4j can index (see {@link MAX_INDEXED_CHARS}). */
function indexable(
  user: ReturnType<typeof userOf>,
  resource: ReturnType<typeof resourceOf>,
  place: ReturnType<typeof placeOf>,
) {
  return {
    userId: key(user.userId),
    userName: indexableName(user.userName),
    domainId: key(user.domainId),
    domainName: user.domainName,
    resourceKey: key(resource.resourceKey),
    resourceId: indexableName(resource.resourceId),
    resourceName: indexableName(resource.resourceName),
    projectId: indexableKey(place.projectId),
    regionId: indexableKey(place.regionId),
  };
}

/** Maps one received event to its graph row (docs/graph-model.md sections 2-4). Pure and total. */
export function eventToGraphRow(event: ReceivedEvent, options: RowOptions): GraphRow {
  const trace = event.trace;
  let truncated = false;
  const bounded = (value: unknown): string | null => {
    if (value === null || value === undefined) return null;
    const cut =
      typeof value === "string"
        ? truncateText(value, options.maxTextChars)
        : boundedJson(value, options.maxTextChars);
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
    rating: indexableName(text(trace.trace_rating)),
    code: codeAsString(trace.code) ?? null,
    time: new Date(trace.time).toISOString(),
    recordTime:
      trace.record_time === null || trace.record_time === undefined
        ? null
        : new Date(trace.record_time).toISOString(),
    service: text(trace.service_type),
    resourceType: text(trace.resource_type),
    sourceIp: key(text(trace.source_ip)),
    apiVersion: text(trace.api_version),
    requestId: text(trace.request_id),
    message,
    request,
    response,
    truncated,
    eventType: event.type,
    eventSource: event.source,
    traceparent: text(event.extensions["traceparent"]),
    tracestate: text(event.extensions["tracestate"]),
    ...indexable(userOf(event), resourceOf(event), placeOf(event)),
  };
}
