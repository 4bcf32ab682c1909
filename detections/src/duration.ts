/** Units of a duration argument, in milliseconds. */
const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^([+-]?)(\d{1,7})([smhdw])$/;

/** `"24h"` → 86 400 000, `"-3d"` → -259 200 000; undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const [, sign, amount, unit] = match;
  const ms = Number(amount) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
  return sign === "-" ? -ms : ms;
}

const ISO_INSTANT =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A point in time given on the command line: a duration means that long before `now`
 * (`24h` = a day ago), otherwise an ISO 8601 date or instant with a zone (`2026-12-01`,
 * `2026-12-01T08:00:00Z`). Undefined when it is neither.
 */
export function parseInstant(text: string, now: number): number | undefined {
  const duration = parseDuration(text);
  if (duration !== undefined) return duration < 0 ? undefined : now - duration;
  if (!ISO_INSTANT.test(text.trim())) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : ms;
}
