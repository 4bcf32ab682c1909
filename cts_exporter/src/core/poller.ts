import { runCycle, type CycleOptions, type CycleSummary, type PollState } from "./cycle.js";
import type { CoreDeps } from "./ports.js";

interface PollerOptions extends CycleOptions {
  /** CTS_FROM in ms: the time between the starts of two cycles. */
  readonly intervalMs: number;
  /**
   * After a failed cycle, try again after this long (if shorter than the interval), doubling
   * with every further failure in a row up to `failureBackoffMaxMs`.
   */
  readonly failureRetryMs: number;
  readonly failureBackoffMaxMs?: number;
  /** Run one cycle and return (`--once`). */
  readonly once: boolean;
  readonly signal: AbortSignal;
  readonly deliverySignal?: AbortSignal;
  /** Called after every cycle, before waiting: persist state, log, flip readiness. */
  onCycle(summary: CycleSummary): Promise<void> | void;
}

const FAILURE_BACKOFF_MAX_MS = 5 * 60_000;

/**
 * The wait after the n-th failed cycle in a row: the first retry comes soon (a sink restart),
 * later ones back off exponentially, so a sink that refuses every request (wrong K_SINK, OIDC)
 * or a broken CTS is not hammered. Capped at 5 minutes, and at eight poll intervals.
 */
export function failureDelay(
  failuresInARow: number,
  options: Pick<PollerOptions, "intervalMs" | "failureRetryMs" | "failureBackoffMaxMs">,
): number {
  const first = Math.min(options.intervalMs, options.failureRetryMs);
  // At most eight intervals: a poller told to look every 2 seconds keeps looking often.
  const cap = Math.max(
    first,
    Math.min(options.failureBackoffMaxMs ?? FAILURE_BACKOFF_MAX_MS, 8 * options.intervalMs),
  );
  return Math.min(cap, first * 2 ** Math.min(30, Math.max(0, failuresInARow - 1)));
}

/**
 * Runs cycles: one at start, then one every interval. Cycles never overlap: a cycle that takes
 * longer than the interval delays the next one instead of running beside it. Returns the last
 * cycle's summary once `once` is set or the signal aborts.
 */
export async function runPoller(
  deps: CoreDeps,
  state: PollState,
  options: PollerOptions,
): Promise<CycleSummary> {
  let failuresInARow = 0;
  for (;;) {
    const cycle = () => runCycle(deps, state, options);
    const summary = await (deps.traceCycle === undefined ? cycle() : deps.traceCycle(cycle));
    await options.onCycle(summary);
    if (options.once || options.signal.aborted) return summary;
    failuresInARow = summary.ok ? 0 : failuresInARow + 1;
    const wait = summary.ok ? options.intervalMs : failureDelay(failuresInARow, options);
    const next = summary.window.to + wait;
    try {
      await deps.clock.sleep(Math.max(0, next - deps.clock.now()), options.signal);
    } catch {
      return summary;
    }
  }
}
