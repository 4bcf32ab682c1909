import { createHash } from "node:crypto";

/**
 * Canonicalisation for OTC's "SDK-HMAC-SHA256" AK/SK signatures (API Gateway "simple" variant,
 * docs/otc-api-notes.md section 5.1). Client and server both build the canonical request from what travels on the
 * wire, so a request signed here verifies on a server that uses the same functions.
 */

/** A query parameter list in wire order; keys may repeat. */
export type QueryPairs = readonly (readonly [string, string])[];

/** Hex SHA-256 of an empty body, the payload hash of every GET. */
export const EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;
const HEX = Array.from(
  { length: 256 },
  (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
);

/**
 * Percent-encodes the UTF-8 bytes of `text`, leaving only `A-Z a-z 0-9 - _ . ~`: a space becomes
 * `%20` (never `+`), `*` becomes `%2A` and `/` becomes `%2F`, as the signer requires.
 */
export function percentEncode(text: string): string {
  if (UNRESERVED.test(text)) return text;
  let encoded = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    encoded += UNRESERVED.test(char) ? char : (HEX[byte] ?? "");
  }
  return encoded;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a stray "%" is a literal; re-encoding it gives "%25" on both sides
  }
}

/**
 * The canonical URI of a wire path (`URL.pathname`): every segment decoded and re-encoded, and a
 * trailing `/` appended, so `/v3/<pid>/traces` signs as `/v3/<pid>/traces/`.
 */
export function canonicalUri(wirePath: string): string {
  const path = wirePath
    .split("/")
    .map((segment) => percentEncode(decodeSegment(segment)))
    .join("/");
  if (path === "") return "/";
  return path.endsWith("/") ? path : `${path}/`;
}

const byUtf8 = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

/**
 * Keys sorted in byte order, the values of a repeated key sorted too and emitted as one `k=v`
 * each; both encoded with {@link percentEncode}. No query gives an empty string.
 */
export function canonicalQueryString(query: QueryPairs): string {
  const byKey = new Map<string, string[]>();
  for (const [key, value] of query) {
    const values = byKey.get(key);
    if (values === undefined) byKey.set(key, [value]);
    else values.push(value);
  }
  const parts: string[] = [];
  for (const key of [...byKey.keys()].sort(byUtf8)) {
    const encodedKey = percentEncode(key);
    for (const value of (byKey.get(key) ?? []).sort(byUtf8)) {
      parts.push(`${encodedKey}=${percentEncode(value)}`);
    }
  }
  return parts.join("&");
}

/**
 * Parses a raw query string (without `?`) the way a server sees it: `+` is a space and
 * percent-escapes are decoded, as Go's `url.ParseQuery` does on the gateway.
 */
export function parseQueryString(rawQuery: string): [string, string][] {
  return [...new URLSearchParams(rawQuery)];
}

/** Encodes a parameter list for the wire with the signer's own encoding, in the given order. */
export function formatQueryString(query: QueryPairs): string {
  return query.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`).join("&");
}

/** Lower-case hex SHA-256 of a body; `undefined` or empty means an empty body. */
export function payloadHash(body: string | Uint8Array | undefined): string {
  if (body === undefined || body.length === 0) return EMPTY_BODY_SHA256;
  return createHash("sha256").update(body).digest("hex");
}

/** The parts of a request the signature covers. */
export interface SignableRequest {
  /** HTTP method, any case. */
  readonly method: string;
  /** The path as sent on the wire, e.g. `URL.pathname`. */
  readonly path: string;
  readonly query: QueryPairs;
  /** Exactly the headers to sign (names in any case); `x-sdk-date` must be among them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body; a GET has none. Ignored when `x-sdk-content-sha256` is signed. */
  readonly body?: string | Uint8Array;
}

/** The canonical request text and the `SignedHeaders` list that goes with it. */
interface CanonicalRequest {
  readonly text: string;
  readonly signedHeaders: string;
}

/**
 * Builds the six-line canonical request: method, canonical URI, canonical query, the signed
 * headers as `name:value` lines (names lower-cased and sorted, values trimmed), the
 * `SignedHeaders` list, and the payload hash (or the `x-sdk-content-sha256` header's value).
 */
export function canonicalRequest(request: SignableRequest): CanonicalRequest {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(request.headers)) {
    headers.set(name.toLowerCase(), value.trim());
  }
  const names = [...headers.keys()].sort();
  const headerLines = names.map((name) => `${name}:${headers.get(name) ?? ""}\n`).join("");
  const signedHeaders = names.join(";");
  const contentHash = headers.get("x-sdk-content-sha256") ?? payloadHash(request.body);
  const text = [
    request.method.toUpperCase(),
    canonicalUri(request.path),
    canonicalQueryString(request.query),
    headerLines,
    signedHeaders,
    contentHash,
  ].join("\n");
  return { text, signedHeaders };
}
