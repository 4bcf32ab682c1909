export { AppError, ErrorCode, isAppError, toAppError } from "./errors.js";
export type { AppErrorOptions } from "./errors.js";
export { createLogger, REDACT_PATHS } from "./logging.js";
export type { Logger, LoggerOptions } from "./logging.js";
export { CtsDomain, CtsTrace, CtsTracePage, CtsUser, codeAsString } from "./cts/trace.js";
export type { RawCtsTrace } from "./cts/trace.js";
export {
  EXTENSION_NAME,
  eventSubject,
  eventType,
  traceEventAttributes,
} from "./event/attributes.js";
export type { TraceEventAttributes, TraceOrigin } from "./event/attributes.js";
export {
  decodeHeaderValue,
  encodeHeaderValue,
  HeaderDecodingError,
} from "./event/header-encoding.js";
export {
  batchMessage,
  binaryMessage,
  eventToJson,
  MEDIA_TYPE,
  structuredMessage,
} from "./event/http-binding.js";
export type { HttpMessage } from "./event/http-binding.js";
export { traceToCloudEvent } from "./event/to-cloudevent.js";
export {
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  EMPTY_BODY_SHA256,
  formatQueryString,
  parseQueryString,
  payloadHash,
  percentEncode,
} from "./otc/canonical.js";
export type { CanonicalRequest, QueryPairs, SignableRequest } from "./otc/canonical.js";
export {
  formatSdkDate,
  hmacSignature,
  MAX_CLOCK_SKEW_MS,
  parseAuthorization,
  parseSdkDate,
  signHttpRequest,
  signRequest,
  SIGNING_ALGORITHM,
  stringToSign,
  verifyRequestSignature,
} from "./otc/signer.js";
export type {
  AkSkCredentials,
  HttpRequestToSign,
  ParsedAuthorization,
  ReceivedRequest,
  RequestSignature,
  SignatureCheck,
  SignatureFailure,
  VerifyOptions,
} from "./otc/signer.js";
export {
  backoffDelay,
  DEFAULT_BACKOFF,
  isRetryable,
  parseRetryAfter,
  retry,
  retryAfterOf,
} from "./retry.js";
export type { BackoffPolicy, RetryEvent, RetryOptions } from "./retry.js";
