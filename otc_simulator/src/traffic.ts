import type { RawCtsTrace } from "@cts/shared";
import type { GeneratedTrace, TraceFactory } from "./generator/trace-factory.js";
import type { PreloadOptions } from "./options.js";
import { exponentialGapMs, streamFor } from "./random.js";
import type { StoredTrace, TraceStore } from "./trace-store.js";

/** Feeds the store: live arrivals, bulk preloads and traces given verbatim. */
interface Traffic {
  /** Generates the live arrivals up to `now` (lazily, on each request: no timers). */
  catchUp(now: number): void;
  /** Bulk-generates `count` traces spread over `(from, to)`; returns their count. */
  preload(options: PreloadOptions): number;
  /** Stores traces exactly as given; returns the ids they are stored (and paged) under. */
  add(traces: readonly RawCtsTrace[], now: number): string[];
}

function epochMillis(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^\d{1,16}$/.test(value)) return Number(value);
  return undefined;
}

const PRELOAD_CHUNK = 10_000;

export function createTraffic(deps: {
  readonly seed: number;
  readonly factory: TraceFactory;
  readonly store: TraceStore;
  /** Live traces per second; 0 for none. */
  readonly rate: number;
  /** The moment live generation starts. */
  readonly start: number;
  readonly retentionMs: number;
}): Traffic {
  const { seed, factory, store, rate } = deps;
  const arrivals = streamFor(seed, "arrivals");
  let nextSeq = 0;
  let nextArrival =
    rate > 0 ? deps.start + exponentialGapMs(arrivals, rate) : Number.POSITIVE_INFINITY;
  let preloads = 0;
  let given = 0;

  return {
    catchUp(now) {
      if (nextArrival > now) return;
      // A clock jumped far ahead: traces before retention would be pruned at once anyway.
      nextArrival = Math.max(nextArrival, now - deps.retentionMs);
      const batch: GeneratedTrace[] = [];
      while (nextArrival <= now) {
        batch.push(factory.record(nextSeq++, Math.floor(nextArrival)));
        nextArrival += exponentialGapMs(arrivals, rate);
      }
      store.add(batch);
      store.prune(now - deps.retentionMs - 60 * 60 * 1000);
    },

    preload(options) {
      if (!(options.to - options.from > 1) || options.count < 0) {
        throw new RangeError("preload needs from < to - 1 and a count >= 0");
      }
      const random = streamFor(seed, "preload", preloads++);
      const span = options.to - options.from - 1;
      // Chunks keep the temporary arrays small for 200,000 traces.
      for (let done = 0; done < options.count; done += PRELOAD_CHUNK) {
        const batch: GeneratedTrace[] = [];
        for (let index = done; index < Math.min(options.count, done + PRELOAD_CHUNK); index++) {
          const time = options.from + 1 + Math.floor(random() * span);
          batch.push(factory.record(nextSeq++, time, options.lateFraction));
        }
        store.add(batch);
      }
      return options.count;
    },

    add(traces, now) {
      const stored: StoredTrace[] = traces.map((raw) => {
        const id =
          typeof raw["trace_id"] === "string" && raw["trace_id"] !== ""
            ? raw["trace_id"]
            : `given-${given}`;
        given++;
        const time = epochMillis(raw["time"]) ?? now;
        return { id, time, recordTime: epochMillis(raw["record_time"]) ?? time, raw };
      });
      store.add(stored);
      return stored.map((trace) => trace.id);
    },
  };
}
