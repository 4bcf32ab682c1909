export { AppError, ErrorCode, isAppError, toAppError } from "./errors.js";
export type { Env } from "./env.js";
export { createLogger } from "./logging.js";
export type { Logger } from "./logging.js";
export { CtsTrace, CtsTracePage, codeAsString } from "./cts/trace.js";
export type { RawCtsTrace } from "./cts/trace.js";
export { eventType } from "./event/trace-attributes.js";
export type { TraceOrigin } from "./event/trace-attributes.js";
export { EXTENSION_NAME, RESERVED_NAMES } from "./event/http/attributes.js";
export {
  binaryEventId,
  decodeEvents,
  detectContentMode,
  invalidEvent,
  withEventId,
} from "./event/http/decode.js";
export type {
  ContentMode,
  EventContext,
  ReadEvent,
  RequestHeaders,
  Where,
} from "./event/http/decode.js";
export {
  batchMessage,
  binaryMessage,
  eventToJson,
  structuredMessage,
} from "./event/http/encode.js";
export type { HttpMessage } from "./event/http/encode.js";
export { decodeHeaderValue, encodeHeaderValue } from "./event/http/header-value.js";
export { traceToCloudEvent } from "./event/to-cloudevent.js";
export { formatQueryString } from "./otc/canonical.js";
export { signHttpRequest, verifyRequestSignature } from "./otc/signer.js";
export type { AkSkCredentials, SignatureFailure } from "./otc/signer.js";
export { backoffDelay, parseRetryAfter, retry } from "./retry.js";
export type { RetryEvent, RetryOptions } from "./retry.js";
export { promMetricsOn } from "./telemetry/prom-metrics.js";
export { exportPromRegistry, startTelemetry, telemetryActive } from "./telemetry/start.js";
export { contextFromTraceparent, traceContextFields } from "./telemetry/trace-context.js";
export type { TraceContextFields } from "./telemetry/trace-context.js";
