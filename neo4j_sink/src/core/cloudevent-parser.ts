import {
  AppError,
  CtsTrace,
  decodeHeaderValue,
  ErrorCode,
  HeaderDecodingError,
  MEDIA_TYPE,
} from "@cts/shared";
import { z } from "zod";
import { assertUtf8Charset, isJsonMediaType, parseMediaType } from "./media-type.js";
import { isRfc3339 } from "./rfc3339.js";

/** The three CloudEvents HTTP content modes (docs/event-contract.md section 2). */
export type ContentMode = "binary" | "structured" | "batch";

/** Request headers as Node delivers them: lower-case names; `headersDistinct` gives arrays. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A received CloudEvent whose `data` is a validated CTS trace. */
export interface ReceivedEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string | undefined;
  readonly subject: string | undefined;
  /** Extension attributes as strings (binary mode has nothing else). */
  readonly extensions: Readonly<Record<string, string>>;
  readonly trace: CtsTrace;
}

/** Where in a request an event sits, for error messages. */
interface Where {
  readonly index?: number;
  readonly id?: string;
}

const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const CONTEXT_ATTRIBUTES = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "subject",
  "datacontenttype",
  "dataschema",
  "data",
  "data_base64",
]);

const clip = (text: string) => (text.length > 64 ? `${text.slice(0, 64)}...` : text);

function label(where: Where): string {
  const parts: string[] = [];
  if (where.index !== undefined) parts.push(`event ${where.index}`);
  if (where.id !== undefined) parts.push(`id "${clip(where.id)}"`);
  return parts.length === 0 ? "" : `${parts.join(", ")}: `;
}

function invalid(reason: string, where: Where, code: ErrorCode = ErrorCode.CE_INVALID): AppError {
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
    throw invalid(`header ${name} appears ${value.length} times; send it once`, where);
  }
  return value[0];
}

/**
 * The event id a binary-mode request carries in `ce-id`, when that header is present once,
 * decodes and is not empty; undefined otherwise. Read before anything else is checked, so a
 * rejection caused by another header or the body still names the event.
 */
export function binaryEventId(headers: RequestHeaders): string | undefined {
  const raw = headers["ce-id"];
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
  const invalidEvent =
    error.code === ErrorCode.CE_INVALID || error.code === ErrorCode.CE_DATA_INVALID;
  if (!invalidEvent || error.details["eventId"] !== undefined) return error;
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
  const hasAttributes = ["ce-specversion", "ce-id", "ce-source", "ce-type"].some(
    (name) => headers[name] !== undefined,
  );
  if (type !== undefined && !isJsonMediaType(type)) {
    throw new AppError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Content-Type "${clip(raw ?? "")}" is not supported: the data must be a CTS trace as JSON`,
    );
  }
  if (raw !== undefined && type === undefined) {
    throw new AppError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Content-Type "${clip(raw)}" is not a valid media type`,
    );
  }
  if (!hasAttributes) {
    throw invalid(
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
    throw invalid(`${what} is not valid JSON`, where);
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

interface Attributes {
  readonly specversion: unknown;
  readonly id: unknown;
  readonly source: unknown;
  readonly type: unknown;
  readonly time: unknown;
  readonly subject: unknown;
}

function requiredText(value: unknown, name: string, where: Where): string {
  if (value === undefined || value === null || value === "") {
    throw invalid(`required attribute "${name}" is missing or empty`, where);
  }
  if (typeof value !== "string") throw invalid(`attribute "${name}" must be a string`, where);
  return value;
}

function optionalText(value: unknown, name: string, where: Where): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(`attribute "${name}" must be a string`, where);
  return value;
}

function checkAttributes(attributes: Attributes, where: Where) {
  const at: Where = {
    ...where,
    ...(typeof attributes.id === "string" && attributes.id !== "" ? { id: attributes.id } : {}),
  };
  const specversion = requiredText(attributes.specversion, "specversion", at);
  if (specversion !== "1.0") {
    throw invalid(`specversion "${clip(specversion)}" is not supported; only "1.0" is`, at);
  }
  const id = requiredText(attributes.id, "id", at);
  const source = requiredText(attributes.source, "source", at);
  const type = requiredText(attributes.type, "type", at);
  const time = optionalText(attributes.time, "time", at);
  if (time !== undefined && !isRfc3339(time)) {
    throw invalid(`time "${clip(time)}" is not an RFC 3339 timestamp`, at);
  }
  const subject = optionalText(attributes.subject, "subject", at);
  return { id, source, type, time, subject, where: at };
}

function checkTrace(data: unknown, where: Where): CtsTrace {
  if (!isPlainObject(data)) {
    throw invalid("data must be a CTS trace (a JSON object)", where, ErrorCode.CE_DATA_INVALID);
  }
  const parsed = CtsTrace.safeParse(data);
  if (!parsed.success) {
    const reason = z.prettifyError(parsed.error).replace(/\s*\n\s*/g, " ");
    throw invalid(
      `data is not a CTS trace: ${reason.slice(0, 400)}`,
      where,
      ErrorCode.CE_DATA_INVALID,
    );
  }
  // The schema admits 16-digit epoch milliseconds; a Date (and a Neo4j DateTime) does not.
  for (const field of ["time", "record_time"] as const) {
    const millis = parsed.data[field];
    if (typeof millis === "number" && Number.isNaN(new Date(millis).getTime())) {
      throw invalid(`data.${field} is out of range`, where, ErrorCode.CE_DATA_INVALID);
    }
  }
  return parsed.data;
}

/** Binary mode: attributes in percent-encoded `ce-*` headers, the trace as the body. */
function parseBinary(headers: RequestHeaders, body: string): ReceivedEvent {
  const id = binaryEventId(headers);
  const where: Where = id === undefined ? {} : { id };
  const values: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (!name.startsWith("ce-")) continue;
    const attribute = name.slice(3);
    // Unknown oddly named headers are skipped rather than failing a valid event.
    if (!ATTRIBUTE_NAME.test(attribute)) continue;
    const raw = single(headers, name, where);
    if (raw === undefined) continue;
    try {
      values[attribute] = decodeHeaderValue(raw);
    } catch (error) {
      if (error instanceof HeaderDecodingError) {
        throw invalid(`header ${name}: ${error.message}`, where);
      }
      throw error;
    }
  }
  const checked = checkAttributes(
    {
      specversion: values["specversion"],
      id: values["id"],
      source: values["source"],
      type: values["type"],
      time: values["time"],
      subject: values["subject"],
    },
    {},
  );
  if (body.trim() === "") {
    throw invalid("the body is empty; it must carry the CTS trace", checked.where);
  }
  const trace = checkTrace(parseJson(body, "the body", checked.where), checked.where);
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!CONTEXT_ATTRIBUTES.has(name)) extensions[name] = value;
  }
  const { where: _where, ...attributes } = checked;
  return { ...attributes, extensions, trace };
}

function jsonData(event: Record<string, unknown>, where: Where): unknown {
  const contentType = optionalText(event["datacontenttype"], "datacontenttype", where);
  if (contentType !== undefined) {
    const type = parseMediaType(contentType);
    if (type === undefined || !isJsonMediaType(type)) {
      throw invalid(
        `datacontenttype "${clip(contentType)}" is not JSON; data must be a CTS trace`,
        where,
        ErrorCode.CE_DATA_INVALID,
      );
    }
  }
  const base64 = event["data_base64"];
  if (base64 === undefined || base64 === null) return event["data"];
  if (event["data"] !== undefined && event["data"] !== null) {
    throw invalid("data and data_base64 must not both be present", where);
  }
  if (typeof base64 !== "string") throw invalid("data_base64 must be a string", where);
  const text = Buffer.from(base64, "base64").toString("utf8");
  return parseJson(text, `${label(where)}data_base64`);
}

/** One event in the JSON event format (structured mode, or an element of a batch). */
function parseJsonEvent(value: unknown, where: Where): ReceivedEvent {
  if (!isPlainObject(value)) throw invalid("a CloudEvent must be a JSON object", where);
  const checked = checkAttributes(
    {
      specversion: value["specversion"],
      id: value["id"],
      source: value["source"],
      type: value["type"],
      time: value["time"],
      subject: value["subject"],
    },
    where,
  );
  const trace = checkTrace(jsonData(value, checked.where), checked.where);
  const extensions: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (CONTEXT_ATTRIBUTES.has(name) || !ATTRIBUTE_NAME.test(name)) continue;
    if (typeof raw === "string") extensions[name] = raw;
    else if (typeof raw === "number" || typeof raw === "boolean") extensions[name] = String(raw);
  }
  const { where: _where, ...attributes } = checked;
  return { ...attributes, extensions, trace };
}

/**
 * Parses a request body in the given mode into events, all valid or none: one invalid event
 * rejects the whole request (CE_INVALID or CE_DATA_INVALID, with the event's index and id), so
 * a sender's retry never half-applies a batch. Unlike the `cloudevents` package it never
 * invents an id or time and never replaces a bad time.
 */
export function parseCloudEvents(
  mode: ContentMode,
  headers: RequestHeaders,
  body: string,
): ReceivedEvent[] {
  switch (mode) {
    case "binary":
      return [parseBinary(headers, body)];
    case "structured":
      return [parseJsonEvent(parseJson(body, "the structured event"), {})];
    case "batch": {
      const list = parseJson(body, "the batch");
      if (!Array.isArray(list)) throw invalid("a batch must be a JSON array of CloudEvents", {});
      return list.map((item, index) => parseJsonEvent(item, { index }));
    }
  }
}
