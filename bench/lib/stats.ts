/** Percentile by nearest rank over a copy of `values` (ms); undefined when there are none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Events per second; 0 for an empty or instant run. */
export function rate(events: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (events * 1000) / elapsedMs : 0;
}

/** `a / b`, or undefined when either side is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export const round = (value: number, digits = 0): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** Spreads `{ [key]: value }` only when there is a value (exactOptionalPropertyTypes). */
export function optional<K extends string>(
  key: K,
  value: number | undefined,
): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** A timed run: events done, its duration and each request's (or event's) latency. */
export interface TimedRun {
  readonly events: number;
  readonly elapsedMs: number;
  readonly latenciesMs: readonly number[];
}

/** What every measurement reports of a run, in the order the results list them. */
export function throughput(run: TimedRun): {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  p50Ms?: number;
  p99Ms?: number;
} {
  return {
    events: run.events,
    seconds: run.elapsedMs / 1000,
    eventsPerSecond: rate(run.events, run.elapsedMs),
    ...optional("p50Ms", percentile(run.latenciesMs, 50)),
    ...optional("p99Ms", percentile(run.latenciesMs, 99)),
  };
}
