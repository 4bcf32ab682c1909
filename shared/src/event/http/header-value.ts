/**
 * Header value encoding of the CloudEvents HTTP binding (docs/event-contract.md section 2):
 * space, double quote, percent, non-printable and non-ASCII characters are percent-encoded as
 * UTF-8 bytes on send and decoded on receipt. The `cloudevents` package does neither (a subject
 * like "a中" makes Node throw ERR_INVALID_CHAR), so both directions live here.
 */

const SAFE = /^[\x21\x23-\x24\x26-\x7e]*$/; // printable ASCII except space, " and %

export function encodeHeaderValue(value: string): string {
  if (SAFE.test(value)) return value;
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const safe = byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25;
    out += safe
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export class HeaderDecodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HeaderDecodingError";
  }
}

// ignoreBOM: a value may legitimately start with U+FEFF; the decoder must not swallow it.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes a received header value. Node's HTTP parser hands over header bytes as latin-1, so raw
 * UTF-8 (what sdk-go senders write) is first re-read as UTF-8; then `%XX`
 * sequences are decoded. Invalid UTF-8 after decoding is an error, as the binding requires.
 */
export function decodeHeaderValue(received: string): string {
  let value = received;
  // Every char < 0x100 means the string is a latin-1 view of raw bytes; anything higher means
  // it was already decoded by whoever built the headers object (e.g. a test harness).
  const codes = Array.from(value, (char) => char.charCodeAt(0));
  if (codes.some((code) => code >= 0x80) && codes.every((code) => code <= 0xff)) {
    try {
      value = utf8.decode(Buffer.from(value, "latin1"));
    } catch {
      throw new HeaderDecodingError("header value is neither ASCII nor valid UTF-8");
    }
  }
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    if (value[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(value[i] ?? "", "utf8"));
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw new HeaderDecodingError("percent-encoded header value is not valid UTF-8");
  }
}
