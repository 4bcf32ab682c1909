/** The simulator's notion of now: token expiry, signature skew, trace visibility, retention. */
export interface Clock {
  now(): number;
}

/** Wall-clock time. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` and returns the new now. */
  advance(ms: number): number;
  set(epochMillis: number): void;
}

/** A {@link ManualClock} starting at `start` (epoch ms). */
export function manualClock(start: number): ManualClock {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
      return now;
    },
    set(epochMillis) {
      now = epochMillis;
    },
  };
}

/**
 * Wall-clock time plus an offset that `advance` grows: real seconds still pass (so clients'
 * own timers and signatures behave), and a test can jump over a token lifetime or a late
 * trace's delay without waiting.
 */
export function offsetClock(): ManualClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
      return Date.now() + offset;
    },
    set(epochMillis) {
      offset = epochMillis - Date.now();
    },
  };
}
