import { runCycle, type CycleOptions, type CycleSummary, type PollState } from "./cycle.js";
import type { CoreDeps } from "./ports.js";

interface PollerOptions extends CycleOptions {
  /** CTS_FROM in ms: the time between the starts of two cycles. */
  readonly intervalMs: number;
  /** After a failed cycle, try again after this long (if shorter than the interval). */
  readonly failureRetryMs: number;
  /** Run one cycle and return (`--once`). */
  readonly once: boolean;
  readonly signal: AbortSignal;
  readonly deliverySignal?: AbortSignal;
  /** Called after every cycle, before waiting: persist state, log, flip readiness. */
  onCycle(summary: CycleSummary): Promise<void> | void;
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
  for (;;) {
    const summary = await runCycle(deps, state, options);
    await options.onCycle(summary);
    if (options.once || options.signal.aborted) return summary;
    const wait = summary.ok
      ? options.intervalMs
      : Math.min(options.intervalMs, options.failureRetryMs);
    const next = summary.window.to + wait;
    try {
      await deps.clock.sleep(Math.max(0, next - deps.clock.now()), options.signal);
    } catch {
      return summary;
    }
  }
}
