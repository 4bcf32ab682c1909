/**
 * Reads the error bodies OTC services answer with (docs/otc-api-notes.md section 8): the gateway and CTS
 * style `{"error_code": "CTS.0214", "error_msg": "..."}`, Keystone's
 * `{"error": {"code": 401, "title": "Unauthorized", "message": "..."}}`, and a bare
 * `{"code", "message"}`. Anything else is summarised as its first line of text.
 */
interface ServiceError {
  /** `CTS.0214`, `APIG.0307`, `401`...; undefined when the body names none. */
  readonly code: string | undefined;
  readonly message: string | undefined;
}

const MAX_TEXT = 200;

function asText(value: unknown): string | undefined {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (typeof value === "number") return String(value);
  return undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The code and message of an error body, in HW-NODE's order: `error_code`, `code`, nested `.code`. */
export function parseServiceError(body: string): ServiceError {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const firstLine = body.trim().split("\n", 1)[0]?.slice(0, MAX_TEXT);
    return { code: undefined, message: firstLine === "" ? undefined : firstLine };
  }
  const top = record(json);
  const nested = record(top?.["error"]);
  return {
    code: asText(top?.["error_code"]) ?? asText(top?.["code"]) ?? asText(nested?.["code"]),
    message:
      asText(top?.["error_msg"]) ??
      asText(top?.["message"]) ??
      asText(nested?.["message"]) ??
      asText(nested?.["title"]),
  };
}

/** `CTS.0214: The tracker does not exist` or whichever half is known. */
export function formatServiceError(error: ServiceError): string {
  const parts = [error.code, error.message].filter((part) => part !== undefined);
  return parts.length === 0 ? "no error details" : parts.join(": ");
}
