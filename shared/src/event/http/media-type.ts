import { parse } from "content-type";
import { AppError, ErrorCode } from "../../errors.js";

/** The media types of the binding's three content modes' bodies. */
export const MEDIA_TYPE = {
  json: "application/json",
  structured: "application/cloudevents+json",
  batch: "application/cloudevents-batch+json",
} as const;

/** A parsed `Content-Type`: `type/subtype` lower-cased, parameter names lower-cased. */
export interface MediaType {
  readonly essence: string;
  readonly parameters: Readonly<Record<string, string>>;
}

const TYPE = /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * Parses a `Content-Type` value (RFC 9110 8.3: case-insensitive type, quoted parameter values).
 * `application/cloudevents+json; charset=UTF-8` and its lower-case form are the same type.
 * Returns undefined for an absent value or one whose type is not `type/subtype`.
 */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined) return undefined;
  // The package lower-cases the type and parameter names but checks neither against the grammar.
  const { type, parameters } = parse(value);
  return TYPE.test(type) ? { essence: type, parameters } : undefined;
}

/** JSON media types: `application/json`, `text/json` and any `+json` structured suffix. */
export function isJsonMediaType(type: MediaType): boolean {
  return (
    type.essence === "application/json" ||
    type.essence === "text/json" ||
    type.essence.endsWith("+json")
  );
}

const UTF8_CHARSETS = new Set(["utf-8", "utf8", "us-ascii"]);

/** JSON is UTF-8 (RFC 8259); any other declared charset would be decoded wrongly, so refuse it. */
export function assertUtf8Charset(type: MediaType): void {
  const charset = type.parameters["charset"];
  if (charset !== undefined && !UTF8_CHARSETS.has(charset.toLowerCase())) {
    throw new AppError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `Content-Type charset "${charset}" is not supported; send UTF-8 JSON`,
    );
  }
}
