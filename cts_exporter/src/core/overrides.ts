import { AppError, ErrorCode, EXTENSION_NAME, RESERVED_NAMES } from "@cts/shared";

/**
 * Parses K_CE_OVERRIDES (`{"extensions":{"name":"value"}}`, Knative's CloudEventOverrides).
 * Knative sets it to "" when a source has no overrides, so "", unset and `{}` all mean none.
 * Values are strings in Knative's Go type; numbers and booleans are accepted as their text.
 */
export function parseCeOverrides(raw: string | undefined): Readonly<Record<string, string>> {
  if (raw === undefined || raw.trim() === "") return {};
  const fail = (what: string) =>
    new AppError(
      ErrorCode.CONFIG_INVALID,
      `K_CE_OVERRIDES ${what}; expected JSON like {"extensions":{"team":"security"}} ` +
        "with lower-case alphanumeric extension names",
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw fail("is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw fail("is not a JSON object");
  const extensions = (parsed as Record<string, unknown>)["extensions"];
  if (extensions === undefined || extensions === null) return {};
  if (typeof extensions !== "object" || Array.isArray(extensions))
    throw fail('has an "extensions" that is not an object');
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(extensions as Record<string, unknown>)) {
    if (!EXTENSION_NAME.test(name)) throw fail(`has an invalid extension name "${name}"`);
    // Checked at start, so a bad K_CE_OVERRIDES exits 78 instead of failing every event.
    if (RESERVED_NAMES.has(name)) throw fail(`tries to override the reserved attribute "${name}"`);
    if (typeof value === "string") result[name] = value;
    else if (typeof value === "number" || typeof value === "boolean") result[name] = String(value);
    else throw fail(`has a non-scalar value for extension "${name}"`);
  }
  return result;
}
