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
