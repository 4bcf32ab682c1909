import type { RawCtsTrace } from "@cts/shared";
import { loadFixtures, placeCase } from "@cts/detections";
import type { SimIdentity } from "../identity.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The account the detection fixtures call home; it becomes the simulator's own. */
const FIXTURE_HOME = { id: "dom-home", name: "OTC-EU-DE-00000000001" };

/**
 * Where the patterns' detection window starts: midnight UTC at least 15 hours before `now`, so
 * the fixtures' firing traces (at most 15 hours into their window, except a weekend one) are
 * all in the past, and their history (at most a few days back) within CTS's 7 days.
 */
export function detectionWindowStart(now: number): number {
  const day = now - 15 * HOUR_MS;
  return day - (day % DAY_MS);
}

export interface DetectionPatterns {
  /** The window start the traces are placed at: run `pnpm detect --since` with it. */
  readonly since: number;
  /** The rules whose firing cases were placed. */
  readonly rules: readonly string[];
  readonly traces: readonly RawCtsTrace[];
}

/**
 * The firing fixture cases of the detection rules (`rules`, or all of them), as CTS traces of
 * this tenant: placed with their window starting at {@link detectionWindowStart}, the fixtures'
 * home account replaced by the simulator's, trace ids prefixed with `idPrefix` (so two tenants
 * in one graph do not share actions), and traces that would lie in the future left out.
 */
export function detectionPatterns(options: {
  readonly now: number;
  readonly identity: SimIdentity;
  readonly rules?: readonly string[];
  readonly idPrefix: string;
}): DetectionPatterns {
  const fixtures = loadFixtures();
  const wanted = options.rules ?? fixtures.map((f) => f.rule);
  const unknown = wanted.filter((id) => !fixtures.some((f) => f.rule === id));
  if (unknown.length > 0) {
    throw new RangeError(`no detection rule named ${unknown.join(", ")}`);
  }
  const since = detectionWindowStart(options.now);
  const traces: RawCtsTrace[] = [];
  for (const file of fixtures.filter((f) => wanted.includes(f.rule))) {
    for (const fixture of file.cases.filter((c) => c.expect.length > 0)) {
      for (const trace of placeCase(file.rule, fixture, since).traces) {
        if (Number(trace["time"]) > options.now) continue;
        const text = JSON.stringify(trace)
          .replaceAll(`"${FIXTURE_HOME.id}"`, JSON.stringify(options.identity.domainId))
          .replaceAll(`"${FIXTURE_HOME.name}"`, JSON.stringify(options.identity.domainName));
        const own = JSON.parse(text) as RawCtsTrace;
        traces.push({ ...own, trace_id: `${options.idPrefix}${String(trace["trace_id"])}` });
      }
    }
  }
  return { since, rules: wanted, traces };
}
