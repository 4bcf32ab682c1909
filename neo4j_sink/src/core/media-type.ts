import { AppError, ErrorCode } from "@cts/shared";

/** A parsed `Content-Type`: `type/subtype` lower-cased, parameter names lower-cased. */
interface MediaType {
  readonly essence: string;
  readonly parameters: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * Parses a `Content-Type` value. Media types are case-insensitive (RFC 9110 8.3.1), so
 * `application/cloudevents+json; charset=UTF-8` and its lower-case form are the same type.
 * Returns undefined for an absent or unparseable value.
 */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined) return undefined;
  const [head = "", ...rest] = value.split(";");
  const essence = head.trim().toLowerCase();
  if (!TOKEN.test(essence)) return undefined;
  const parameters: Record<string, string> = {};
  for (const part of rest) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    const name = part.slice(0, at).trim().toLowerCase();
    let text = part.slice(at + 1).trim();
    if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1);
    parameters[name] = text;
  }
  return { essence, parameters };
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
