export { AppError, ErrorCode, isAppError, toAppError } from "./errors.js";
export type { AppErrorOptions } from "./errors.js";
export { createLogger, REDACT_PATHS } from "./logging.js";
export type { Logger, LoggerOptions } from "./logging.js";
