import type { CloudEventV1 } from "cloudevents";
import { HEADER_PREFIX, NOT_CE_HEADERS } from "./attributes.js";
import { encodeHeaderValue } from "./header-value.js";
import { MEDIA_TYPE } from "./media-type.js";

/**
 * Encoding half of the CloudEvents HTTP binding (docs/event-contract.md section 2); decode.ts is
 * the other half, attributes.ts the names both read.
 */

/** An HTTP request body and headers, independent of any HTTP client (the SDK's Message idea). */
export interface HttpMessage {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

type AnyEvent = CloudEventV1<unknown>;

function dataAsBody(event: AnyEvent): string {
  if (event.data === undefined) return "";
  return typeof event.data === "string" ? event.data : JSON.stringify(event.data);
}

/** Binary mode: attributes as percent-encoded `ce-*` headers, `data` as the body. */
export function binaryMessage(event: AnyEvent): HttpMessage {
  const headers: Record<string, string> = {
    "content-type": `${event.datacontenttype ?? MEDIA_TYPE.json}; charset=utf-8`,
  };
  for (const [name, value] of Object.entries(event)) {
    if (NOT_CE_HEADERS.has(name) || value === undefined || value === null) continue;
    const text =
      typeof value === "string"
        ? value
        : typeof value === "number" || typeof value === "boolean"
          ? String(value)
          : value instanceof Date
            ? value.toISOString()
            : JSON.stringify(value);
    headers[`${HEADER_PREFIX}${name}`] = encodeHeaderValue(text);
  }
  return { headers, body: dataAsBody(event) };
}

/** The JSON event format object of one event (attributes and extensions flat, `data` as JSON). */
export function eventToJson(event: AnyEvent): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event)) {
    if (value === undefined || name === "data_base64") continue;
    json[name] = value instanceof Date ? value.toISOString() : value;
  }
  return json;
}

/** Structured mode: the whole event as one JSON document. */
export function structuredMessage(event: AnyEvent): HttpMessage {
  return {
    headers: { "content-type": `${MEDIA_TYPE.structured}; charset=utf-8` },
    body: JSON.stringify(eventToJson(event)),
  };
}

/** Batch mode: a JSON array of structured events in one request. */
export function batchMessage(events: readonly AnyEvent[]): HttpMessage {
  return {
    headers: { "content-type": `${MEDIA_TYPE.batch}; charset=utf-8` },
    body: JSON.stringify(events.map(eventToJson)),
  };
}
