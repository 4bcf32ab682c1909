import { AppError, ErrorCode } from "../../errors.js";
import {
  ATTRIBUTE_NAME,
  CONTEXT_ATTRIBUTES,
  type ContextAttributeName,
  HEADER_PREFIX,
  isExtensionName,
  REQUIRED_HEADERS,
} from "./attributes.js";
import { decodeHeaderValue, HeaderDecodingError } from "./header-value.js";
import { assertUtf8Charset, isJsonMediaType, MEDIA_TYPE, parseMediaType } from "./media-type.js";
import { isRfc3339 } from "./timestamp.js";

/**
 * Decoding half of the CloudEvents HTTP binding (docs/event-contract.md section 2): the content
 * mode from the headers, then the events of a body, all valid or none. Data is JSON, the only
 * kind this project carries; what the data must be is the receiver's to check (`ReadEvent`).
 */

/** The three CloudEvents HTTP content modes (docs/event-contract.md section 2). */
export type ContentMode = "binary" | "structured" | "batch";

/** Request headers as Node delivers them: lower-case names; `headersDistinct` gives arrays. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The context of a received event: its checked attributes, and its extensions as strings. */
export interface EventContext {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string | undefined;
  readonly subject: string | undefined;
  /** Extension attributes as strings (binary mode has nothing else). */
  readonly extensions: Readonly<Record<string, string>>;
}

/** Where in a request an event sits, for error messages. */
export interface Where {
  readonly index?: number;
  readonly id?: string;
}

/**
 * Makes the receiver's event of a decoded context and its parsed JSON data, checking the data
 * as the receiver needs it (throw {@link invalidEvent} with CE_DATA_INVALID to refuse it). It
 * runs per event in order, so the first invalid event of a batch is the one reported.
 */
export type ReadEvent<E> = (context: EventContext, data: unknown, where: Where) => E;

const clip = (text: string) => (text.length > 64 ? `${text.slice(0, 64)}...` : text);

function label(where: Where): string {
  const parts: string[] = [];
  if (where.index !== undefined) parts.push(`event ${where.index}`);
  if (where.id !== undefined) parts.push(`id "${clip(where.id)}"`);
  return parts.length === 0 ? "" : `${parts.join(", ")}: `;
}

/** The error refusing an event (CE_INVALID unless `code`), its message led by where it sits. */
export function invalidEvent(
  reason: string,
  where: Where,
  code: ErrorCode = ErrorCode.CE_INVALID,
): AppError {
  return new AppError(code, `${label(where)}${reason}`, {
    details: {
      ...(where.index === undefined ? {} : { index: where.index }),
      ...(where.id === undefined ? {} : { eventId: where.id }),
    },
  });
}

function single(headers: RequestHeaders, name: string, where: Where = {}): string | undefined {
  const value = headers[name];
  if (value === undefined || typeof value === "string") return value;
  if (value.length > 1) {
    throw invalidEvent(`header ${name} appears ${value.length} times; send it once`, where);
  }
  return value[0];
}

/**
 * The event id a binary-mode request carries in `ce-id`, when that header is present once,
 * decodes and is not empty; undefined otherwise. Read before anything else is checked, so a
 * rejection caused by another header or the body still names the event.
 */
export function binaryEventId(headers: RequestHeaders): string | undefined {
  const raw = headers[CONTEXT_ATTRIBUTES.id.header];
  const value = typeof raw === "string" ? raw : raw?.length === 1 ? raw[0] : undefined;
  if (value === undefined) return undefined;
  try {
    const id = decodeHeaderValue(value);
    return id === "" ? undefined : id;
  } catch {
    return undefined;
  }
}

/**
 * A 400 error that does not name its event yet, named after the request's `ce-id` when that is
 * valid (see {@link binaryEventId}); any other error is returned as it is.
 */
export function withEventId(error: AppError, headers: RequestHeaders): AppError {
  const refusedEvent =
    error.code === ErrorCode.CE_INVALID || error.code === ErrorCode.CE_DATA_INVALID;
  if (!refusedEvent || error.details["eventId"] !== undefined) return error;
  const id = binaryEventId(headers);
  if (id === undefined) return error;
  return new AppError(error.code, `${label({ id })}${error.message}`, {
    cause: error.cause,
    retryable: error.retryable,
    details: { ...error.details, eventId: id },
  });
}

/**
 * Decides the content mode from the headers alone, before the body is read, so an unsupported
 * media type is refused without reading it. Structured and batch mode are recognised by their
 * media types (case-insensitively); anything else carrying `ce-` attribute headers is binary.
 */
export function detectContentMode(headers: RequestHeaders): ContentMode {
  const raw = single(headers, "content-type");
  const type = parseMediaType(raw);
  if (type?.essence === MEDIA_TYPE.structured || type?.essence === MEDIA_TYPE.batch) {
    assertUtf8Charset(type);
    return type.essence === MEDIA_TYPE.batch ? "batch" : "structured";
  }
  if (type?.essence.startsWith("application/cloudevents") === true) {
    throw new AppError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `event format "${type.essence}" is not supported; use application/cloudevents+json, ` +
        "application/cloudevents-batch+json or binary mode with JSON data",
    );
  }
  const hasAttributes = REQUIRED_HEADERS.some((name) => headers[name] !== undefined);
  if (type !== undefined && !isJsonMediaType(type)) {
    throw new AppError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Content-Type "${clip(raw ?? "")}" is not supported: the data must be JSON`,
    );
  }
  if (raw !== undefined && type === undefined) {
    throw new AppError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Content-Type "${clip(raw)}" is not a valid media type`,
    );
  }
  if (!hasAttributes) {
    throw invalidEvent(
      "no CloudEvent found: send ce-specversion, ce-id, ce-source and ce-type headers (binary mode) " +
        "or use Content-Type application/cloudevents+json (structured mode)",
      {},
    );
  }
  if (type !== undefined) assertUtf8Charset(type);
  return "binary";
}

function parseJson(body: string, what: string, where: Where = {}): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    // The parser's own message quotes the body, which may hold secrets; say only where.
    throw invalidEvent(`${what} is not valid JSON`, where);
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** An attribute's value as received: a decoded header, or a JSON member of any type. */
type Received = (name: ContextAttributeName) => unknown;

/** A required attribute's text is always there; an optional one's may not be. */
type AttributeText<N extends ContextAttributeName> =
  (typeof CONTEXT_ATTRIBUTES)[N]["required"] extends true ? string : string | undefined;

/** One attribute's text, checked as the table says: present if required, RFC 3339 if a timestamp. */
function attributeText<N extends ContextAttributeName>(
  value: Received,
  name: N,
  where: Where,
): AttributeText<N> {
  const { required, type } = CONTEXT_ATTRIBUTES[name];
  const received = value(name);
  if (received === undefined || received === null || (required && received === "")) {
    if (required) throw invalidEvent(`required attribute "${name}" is missing or empty`, where);
    return undefined as AttributeText<N>;
  }
  if (typeof received !== "string") {
    throw invalidEvent(`attribute "${name}" must be a string`, where);
  }
  if (type === "timestamp" && !isRfc3339(received)) {
    throw invalidEvent(`${name} "${clip(received)}" is not an RFC 3339 timestamp`, where);
  }
  return received;
}

/** The checked attributes, and where the event sits, now with its id when it has a usable one. */
function checkAttributes(value: Received, where: Where) {
  const rawId = value("id");
  const at: Where = {
    ...where,
    ...(typeof rawId === "string" && rawId !== "" ? { id: rawId } : {}),
  };
  const specversion = attributeText(value, "specversion", at);
  if (specversion !== "1.0") {
    throw invalidEvent(`specversion "${clip(specversion)}" is not supported; only "1.0" is`, at);
  }
  const attributes = {
    id: attributeText(value, "id", at),
    source: attributeText(value, "source", at),
    type: attributeText(value, "type", at),
    time: attributeText(value, "time", at),
    subject: attributeText(value, "subject", at),
  };
  return { attributes, where: at };
}

/** Binary mode: attributes in percent-encoded `ce-*` headers, the data as the body. */
function decodeBinary<E>(headers: RequestHeaders, body: string, readEvent: ReadEvent<E>): E {
  const id = binaryEventId(headers);
  const where: Where = id === undefined ? {} : { id };
  const values: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (!name.startsWith(HEADER_PREFIX)) continue;
    const attribute = name.slice(HEADER_PREFIX.length);
    // Unknown oddly named headers are skipped rather than failing a valid event.
    if (!ATTRIBUTE_NAME.test(attribute)) continue;
    const raw = single(headers, name, where);
    if (raw === undefined) continue;
    try {
      values[attribute] = decodeHeaderValue(raw);
    } catch (error) {
      if (error instanceof HeaderDecodingError) {
        throw invalidEvent(`header ${name}: ${error.message}`, where);
      }
      throw error;
    }
  }
  const checked = checkAttributes((name) => values[name], {});
  if (body.trim() === "") {
    throw invalidEvent("the body is empty; it must carry the event's data", checked.where);
  }
  const data = parseJson(body, "the body", checked.where);
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (isExtensionName(name)) extensions[name] = value;
  }
  return readEvent({ ...checked.attributes, extensions }, data, checked.where);
}

/** The data of a JSON-format event: `data`, or `data_base64` holding JSON text, never both. */
function jsonData(event: Record<string, unknown>, where: Where): unknown {
  const contentType = event["datacontenttype"];
  if (contentType !== undefined && contentType !== null) {
    if (typeof contentType !== "string") {
      throw invalidEvent(`attribute "datacontenttype" must be a string`, where);
    }
    const type = parseMediaType(contentType);
    if (type === undefined || !isJsonMediaType(type)) {
      throw invalidEvent(
        `datacontenttype "${clip(contentType)}" is not JSON; the data must be JSON`,
        where,
        ErrorCode.CE_DATA_INVALID,
      );
    }
  }
  const base64 = event["data_base64"];
  if (base64 === undefined || base64 === null) return event["data"];
  if (event["data"] !== undefined && event["data"] !== null) {
    throw invalidEvent("data and data_base64 must not both be present", where);
  }
  if (typeof base64 !== "string") throw invalidEvent("data_base64 must be a string", where);
  const text = Buffer.from(base64, "base64").toString("utf8");
  return parseJson(text, `${label(where)}data_base64`);
}

/** One event in the JSON event format (structured mode, or an element of a batch). */
function decodeJsonEvent<E>(value: unknown, where: Where, readEvent: ReadEvent<E>): E {
  if (!isPlainObject(value)) throw invalidEvent("a CloudEvent must be a JSON object", where);
  const checked = checkAttributes((name) => value[name], where);
  const data = jsonData(value, checked.where);
  const extensions: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (!isExtensionName(name) || !ATTRIBUTE_NAME.test(name)) continue;
    if (typeof raw === "string") extensions[name] = raw;
    else if (typeof raw === "number" || typeof raw === "boolean") extensions[name] = String(raw);
  }
  return readEvent({ ...checked.attributes, extensions }, data, checked.where);
}

/**
 * Decodes a request body in the given mode into events, all valid or none: one invalid event
 * rejects the whole request (CE_INVALID, or the receiver's CE_DATA_INVALID, with the event's
 * index and id), so a sender's retry never half-applies a batch. Unlike the `cloudevents`
 * package it never invents an id or time and never replaces a bad time.
 */
export function decodeEvents<E>(
  request: {
    readonly mode: ContentMode;
    readonly headers: RequestHeaders;
    readonly body: string;
  },
  readEvent: ReadEvent<E>,
): E[] {
  const { mode, headers, body } = request;
  switch (mode) {
    case "binary":
      return [decodeBinary(headers, body, readEvent)];
    case "structured":
      return [decodeJsonEvent(parseJson(body, "the structured event"), {}, readEvent)];
    case "batch": {
      const list = parseJson(body, "the batch");
      if (!Array.isArray(list))
        throw invalidEvent("a batch must be a JSON array of CloudEvents", {});
      return list.map((item, index) => decodeJsonEvent(item, { index }, readEvent));
    }
  }
}
