/**
 * Window arithmetic of the poller. All times are epoch milliseconds.
 *
 * CTS filters on a trace's `time` with exclusive bounds and only shows a trace once it is
 * recorded, which can be minutes after `time`. Each cycle therefore re-reads an overlap before
 * the checkpoint: a trace recorded up to `overlapMs` late is still found. The checkpoint is the
 * `to` of the last cycle whose every trace was acknowledged; it never moves on failure.
 */

/** CTS keeps traces for seven days; asking for older ones is an error on the service. */
export const RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Margin so a window start computed now is still inside retention when CTS evaluates it. */
const RETENTION_MARGIN_MS = 60 * 1000;

export interface WindowPolicy {
  /** CTS_FROM in ms: the first look-back when there is no checkpoint. */
  readonly lookbackMs: number;
  /** How far before the checkpoint each cycle re-reads, to catch late-recorded traces. */
  readonly overlapMs: number;
  /**
   * The longest span one listing covers. A longer window (a backlog after downtime, up to the
   * seven days CTS keeps) is read oldest first in sub-windows of this size, each committing the
   * checkpoint on its own, so a failure late in a backlog keeps what came before it.
   */
  readonly maxSpanMs: number;
}

export interface TimeWindow {
  /** Exclusive lower bound. */
  readonly from: number;
  /** Exclusive upper bound. */
  readonly to: number;
}

/** The window of the next cycle, given the checkpoint (undefined = none yet) and the clock. */
export function nextWindow(
  checkpoint: number | undefined,
  now: number,
  policy: WindowPolicy,
): TimeWindow {
  const oldest = now - RETENTION_MS + RETENTION_MARGIN_MS;
  const wanted = checkpoint === undefined ? now - policy.lookbackMs : checkpoint - policy.overlapMs;
  // from is exclusive: start 1 ms earlier so a trace stamped exactly at the boundary is included.
  const from = Math.max(oldest, Math.min(wanted, now) - 1);
  return { from, to: now };
}

/**
 * The `from` a CTS request may carry at `now`: never older than retention (less a margin). A
 * window planned near the retention edge slides out of it while its pages are read; CTS refuses
 * every later page unless each request clamps `from` again.
 */
export function clampToRetention(from: number, now: number): number {
  return Math.max(from, now - RETENTION_MS + RETENTION_MARGIN_MS);
}

/**
 * Splits a window into consecutive sub-windows of at most `maxSpanMs`, oldest first. Bounds are
 * exclusive, so each sub-window starts 1 ms before the previous one ends: a trace stamped exactly
 * at a boundary belongs to the later one.
 */
export function subWindows(window: TimeWindow, maxSpanMs: number): TimeWindow[] {
  const span = Math.max(2, maxSpanMs);
  const pieces: TimeWindow[] = [];
  let from = window.from;
  while (window.to - from > span) {
    pieces.push({ from, to: from + span });
    from += span - 1;
  }
  pieces.push({ from, to: window.to });
  return pieces;
}

/** True when a trace time falls inside the window, with CTS's exclusive bounds. */
export function inWindow(time: number, window: TimeWindow): boolean {
  return time > window.from && time < window.to;
}

/** Where the next window may start: ids of traces older than this can be forgotten. */
export function forgetBefore(checkpoint: number, policy: WindowPolicy): number {
  return checkpoint - policy.overlapMs - 1;
}
