import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { dateTimeFields } from "../date-time.js";
import {
  canonicalRequest,
  parseQueryString,
  type QueryPairs,
  type SignableRequest,
} from "./canonical.js";

/** The algorithm name in the string to sign and in the `Authorization` header. */
const SIGNING_ALGORITHM = "SDK-HMAC-SHA256";

/** APIG rejects a signature whose `X-Sdk-Date` is further than this from its own clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** An access key pair. The secret key never leaves this process; only signatures do. */
export interface AkSkCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

/** `YYYYMMDDTHHMMSSZ` in UTC, e.g. `20240326T030801Z`. */
export function formatSdkDate(epochMillis: number): string {
  return new Date(epochMillis)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/** Parses an `X-Sdk-Date` value into epoch ms; `undefined` when it is not in that form. */
export function parseSdkDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value.trim());
  if (match === null) return undefined;
  const { year, month, day, hour, minute, second } = dateTimeFields(match);
  const millis = Date.UTC(year, month - 1, day, hour, minute, second);
  return formatSdkDate(millis) === value.trim() ? millis : undefined;
}

/** `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex sha256 of the canonical request>`. */
export function stringToSign(canonicalText: string, sdkDate: string): string {
  const digest = createHash("sha256").update(canonicalText).digest("hex");
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${digest}`;
}

/** Hex HMAC-SHA256 keyed with the secret key itself (this variant derives no key). */
export function hmacSignature(text: string, secretKey: string): string {
  return createHmac("sha256", Buffer.from(secretKey, "utf8")).update(text).digest("hex");
}

/** Everything computed while signing; tests compare each step with the published vectors. */
interface RequestSignature {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signedHeaders: string;
  readonly signature: string;
  /** The complete `Authorization` header value. */
  readonly authorization: string;
}

/**
 * Signs a request whose headers already hold everything to sign, `x-sdk-date` included
 * (docs/otc-api-notes.md section 5.1). Throws a TypeError when `x-sdk-date` is missing or malformed, a caller bug.
 */
export function signRequest(
  request: SignableRequest,
  credentials: AkSkCredentials,
): RequestSignature {
  const sdkDate = Object.entries(request.headers).find(
    ([name]) => name.toLowerCase() === "x-sdk-date",
  )?.[1];
  if (sdkDate === undefined || parseSdkDate(sdkDate) === undefined) {
    throw new TypeError("signRequest needs an x-sdk-date header in the form YYYYMMDDTHHMMSSZ");
  }
  const canonical = canonicalRequest(request);
  const toSign = stringToSign(canonical.text, sdkDate.trim());
  const signature = hmacSignature(toSign, credentials.secretKey);
  return {
    canonicalRequest: canonical.text,
    stringToSign: toSign,
    signedHeaders: canonical.signedHeaders,
    signature,
    authorization: `${SIGNING_ALGORITHM} Access=${credentials.accessKey}, SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`,
  };
}

/** What a client hands to {@link signHttpRequest}. */
interface HttpRequestToSign {
  readonly method: string;
  readonly url: URL;
  /** Headers to send and sign; `host` and `x-sdk-date` are added here. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** The signing instant in epoch ms. */
  readonly now: number;
}

/**
 * Signs an outgoing HTTP request the way HW-NODE does: every given header plus `host` (from the
 * URL, port included when it is not the default) and `x-sdk-date`. Returns the headers to send,
 * `Authorization` included; `host` is left out because fetch sets it from the URL itself.
 */
export function signHttpRequest(
  request: HttpRequestToSign,
  credentials: AkSkCredentials,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  headers["x-sdk-date"] = formatSdkDate(request.now);
  const signed = signRequest(
    {
      method: request.method,
      path: request.url.pathname,
      query: parseQueryString(request.url.search.slice(1)),
      headers: { ...headers, host: request.url.host },
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    credentials,
  );
  return { ...headers, authorization: signed.authorization };
}

/** The three fields of an `Authorization: SDK-HMAC-SHA256 ...` header. */
interface ParsedAuthorization {
  readonly accessKey: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Parses an `Authorization` header of this scheme; `undefined` for any other shape. */
export function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const prefix = `${SIGNING_ALGORITHM} `;
  if (!value.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.slice(prefix.length).split(",")) {
    const separator = part.indexOf("=");
    if (separator > 0)
      fields.set(part.slice(0, separator).trim(), part.slice(separator + 1).trim());
  }
  const accessKey = fields.get("Access");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (accessKey === undefined || signedHeaders === undefined || signature === undefined) {
    return undefined;
  }
  if (accessKey === "" || !/^[0-9a-f]{64}$/.test(signature)) return undefined;
  return { accessKey, signedHeaders: signedHeaders.toLowerCase().split(";"), signature };
}

/** A request as an HTTP server received it. */
interface ReceivedRequest {
  readonly method: string;
  /** The request target, path and query, e.g. `IncomingMessage.url`. */
  readonly target: string;
  /** Header names lower-case, as node:http delivers them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body?: Uint8Array;
}

/** Why a signature was refused; the gateway answers all of these with 401. */
export type SignatureFailure =
  | "malformed"
  | "unknown-access-key"
  | "missing-signed-header"
  | "date-invalid"
  | "date-skew"
  | "signature-mismatch";

type SignatureCheck =
  | { readonly ok: true; readonly accessKey: string }
  | { readonly ok: false; readonly reason: SignatureFailure; readonly accessKey?: string };

/** What the verifier needs besides the request. */
interface VerifyOptions {
  /** The secret key of an access key, or `undefined` when the key is unknown. */
  readonly secretKeyOf: (accessKey: string) => string | undefined;
  /** The verifier's clock, epoch ms. */
  readonly now: number;
  readonly maxSkewMs?: number;
}

function headerText(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value.join(",");
}

/**
 * Verifies a received request's signature against the headers it actually carries (the `Host`
 * received, port included), with `X-Sdk-Date` within the allowed clock skew.
 */
export function verifyRequestSignature(
  request: ReceivedRequest,
  options: VerifyOptions,
): SignatureCheck {
  const parsed = parseAuthorization(headerText(request.headers["authorization"]) ?? "");
  if (parsed === undefined) return { ok: false, reason: "malformed" };
  const fail = (reason: SignatureFailure): SignatureCheck => ({
    ok: false,
    reason,
    accessKey: parsed.accessKey,
  });
  const secretKey = options.secretKeyOf(parsed.accessKey);
  if (secretKey === undefined) return fail("unknown-access-key");

  const sdkDate = headerText(request.headers["x-sdk-date"]);
  const signedAt = sdkDate === undefined ? undefined : parseSdkDate(sdkDate);
  if (signedAt === undefined) return fail("date-invalid");
  if (Math.abs(options.now - signedAt) > (options.maxSkewMs ?? MAX_CLOCK_SKEW_MS)) {
    return fail("date-skew");
  }

  const signedHeaders: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = headerText(request.headers[name]);
    if (value === undefined) return fail("missing-signed-header");
    signedHeaders[name] = value;
  }
  if (!("x-sdk-date" in signedHeaders)) return fail("missing-signed-header");

  const queryStart = request.target.indexOf("?");
  const path = queryStart === -1 ? request.target : request.target.slice(0, queryStart);
  const query: QueryPairs =
    queryStart === -1 ? [] : parseQueryString(request.target.slice(queryStart + 1));
  const expected = signRequest(
    {
      method: request.method,
      path,
      query,
      headers: signedHeaders,
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    { accessKey: parsed.accessKey, secretKey },
  ).signature;
  const matches = timingSafeEqual(
    Buffer.from(expected, "hex"),
    Buffer.from(parsed.signature, "hex"),
  );
  return matches ? { ok: true, accessKey: parsed.accessKey } : fail("signature-mismatch");
}
