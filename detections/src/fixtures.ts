import type { RawCtsTrace } from "@cts/shared";
import { parseDuration } from "./duration.js";
import type { FixtureCase, FixtureFile } from "./schema.js";

const DAY_MS = 86_400_000;

/** Fixture traces may reach this far before their window start (history windows included). */
const MAX_HISTORY_MS = 28 * DAY_MS;
/**
 * Cases are laid out one per slot of eight weeks, each starting on a Monday at 00:00 UTC, so
 * the hour and weekday of an offset are the same in every slot and no rule's history window
 * reaches into a neighbouring case.
 */
const SLOT_MS = 56 * DAY_MS;
/** Monday 2025-01-06T00:00:00Z. */
const FIRST_SLOT = Date.UTC(2025, 0, 6);

/**
 * A DateTime built from epoch milliseconds as Neo4j's toString() writes it in UTC: always with
 * seconds, with the fraction only when it is not zero.
 */
function neo4jDateTimeText(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2025-02-03T10:00:00.000Z
  return iso.endsWith(".000Z") ? `${iso.slice(0, 19)}Z` : iso;
}

const KEY_TEMPLATE = /\{(date|time)([+-]\d+[smhdw])?\}/g;

/**
 * Expected keys may name times relative to the window start, since the window moves with the
 * case's slot: `{date}` is the start's UTC date, `{date+1d}` the next one, `{time+10h}` the
 * instant ten hours in, written as Neo4j writes a DateTime.
 */
export function expandKey(key: string, since: number, where: string): string {
  return key.replace(KEY_TEMPLATE, (_match, kind: string, shift: string | undefined) => {
    const at = since + (shift === undefined ? 0 : offset(shift, where));
    return kind === "date" ? new Date(at).toISOString().slice(0, 10) : neo4jDateTimeText(at);
  });
}

/** The keys `rule` must return on `placed`: its own expectation, a declared overlap, or none. */
export function expectedKeys(rule: string, placed: PlacedCase): readonly string[] {
  if (placed.rule === rule) return placed.expect;
  return placed.also[rule] ?? [];
}

/** A case placed in time: its window and its traces with absolute times. */
export interface PlacedCase {
  readonly rule: string;
  readonly name: string;
  readonly expect: readonly string[];
  /** Keys other rules rightly return on this case. */
  readonly also: Readonly<Record<string, readonly string[]>>;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly since: Date;
  readonly until: Date;
  readonly traces: readonly RawCtsTrace[];
}

function offset(text: string, where: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`${where}: "${text}" is not an offset like +10m or -3d`);
  return ms;
}

/**
 * Places one case with its window starting at `since`: times become epoch milliseconds,
 * `record_time` defaults to `time`, and `trace_rating`/`trace_type` to `normal`/`ApiCall`.
 */
export function placeCase(rule: string, fixture: FixtureCase, since: number): PlacedCase {
  const where = `${rule} / ${fixture.name}`;
  const window = fixture.window === undefined ? DAY_MS : offset(fixture.window, where);
  const traces = fixture.traces.map((trace) => {
    const at = offset(trace.time, `${where} / ${trace.trace_id}`);
    if (at < -MAX_HISTORY_MS || at >= window + DAY_MS) {
      throw new Error(`${where} / ${trace.trace_id}: ${trace.time} is outside the case's slot`);
    }
    const record = trace["record_time"];
    return {
      trace_rating: "normal",
      trace_type: "ApiCall",
      ...trace,
      time: since + at,
      record_time:
        typeof record === "string" ? since + offset(record, where) : (record ?? since + at),
    };
  });
  return {
    rule,
    name: fixture.name,
    expect: fixture.expect.map((key) => expandKey(key, since, where)).sort(),
    also: Object.fromEntries(
      Object.entries(fixture.also ?? {}).map(([other, keys]) => [
        other,
        keys.map((key) => expandKey(key, since, where)).sort(),
      ]),
    ),
    parameters: fixture.parameters ?? {},
    since: new Date(since),
    until: new Date(since + window),
    traces,
  };
}

/** Every case of every fixture file, each in its own slot, in file and case order. */
export function placeAllCases(files: readonly FixtureFile[], firstSlot = FIRST_SLOT): PlacedCase[] {
  const placed: PlacedCase[] = [];
  for (const file of files) {
    for (const fixture of file.cases) {
      const slotStart = firstSlot + placed.length * SLOT_MS;
      placed.push(placeCase(file.rule, fixture, slotStart + MAX_HISTORY_MS));
    }
  }
  return placed;
}
