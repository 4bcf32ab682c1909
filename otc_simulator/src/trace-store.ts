import type { RawCtsTrace } from "@cts/shared";
import type { GeneratedTrace } from "./generator/trace-factory.js";

/** A trace added as a finished JSON object (tests, fixtures). */
interface GivenTrace {
  readonly id: string;
  readonly time: number;
  readonly recordTime: number;
  readonly raw: RawCtsTrace;
}

/** Generated traces are rendered on demand; given ones are served as given. */
export type StoredTrace = GeneratedTrace | GivenTrace;

/** One page request against the store. */
export interface PageQuery {
  /** Exclusive bounds on `time`. */
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  /** Continue after this trace (CTS's `next`). */
  readonly marker: string | undefined;
  /** The moment of the query: traces recorded later are not visible yet. */
  readonly now: number;
  /** Traces older than this are past retention. */
  readonly oldest: number;
  readonly matches: (trace: StoredTrace) => boolean;
}

type PageResult =
  | { readonly ok: true; readonly traces: readonly StoredTrace[]; readonly more: boolean }
  | { readonly ok: false; readonly reason: "unknown-marker" };

/** What the order looks at. */
interface OrderKey {
  readonly time: number;
  readonly id: string;
}

/** `list[index]`, which the callers have bounds-checked. */
function traceAt(list: readonly StoredTrace[], index: number): StoredTrace {
  const trace = list[index];
  if (trace === undefined) throw new RangeError(`no trace at index ${index}`);
  return trace;
}

/** Newest first means descending (time, id); the array itself is kept ascending. */
function compare(a: OrderKey, b: OrderKey): number {
  if (a.time !== b.time) return a.time - b.time;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Merges two arrays sorted by {@link compare}: linear, unlike sorting the concatenation. */
function merge(a: readonly StoredTrace[], b: readonly StoredTrace[]): StoredTrace[] {
  const merged = new Array<StoredTrace>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  for (;;) {
    const left = a[i];
    const right = b[j];
    if (left !== undefined && (right === undefined || compare(left, right) <= 0)) {
      merged[k++] = left;
      i++;
    } else if (right !== undefined) {
      merged[k++] = right;
      j++;
    } else {
      return merged;
    }
  }
}

/**
 * The traces of one project, ordered by (time, id). Paging walks it from the newest end: a
 * page starts just below `to` (or just after the marker's position in that order, which makes
 * paging exact even when traces share a millisecond) and stops at `from`.
 */
export interface TraceStore {
  add(traces: readonly StoredTrace[]): void;
  get(id: string): StoredTrace | undefined;
  page(query: PageQuery): PageResult;
  /** Ids with `from < time < to` that are visible at `now`, newest first. */
  idsIn(window: { from: number; to: number }, now: number): string[];
  /** Drops traces older than `before`; returns how many. */
  prune(before: number): number;
  readonly size: number;
}

/** First index of `sorted` whose trace is not before `probe` in (time, id) order. */
function lowerBound(sorted: readonly StoredTrace[], probe: OrderKey): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(traceAt(sorted, middle), probe) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The page of `query` walking down from `start`: its visible matches, and whether more follow. */
function pageDownFrom(
  sorted: readonly StoredTrace[],
  start: number,
  query: PageQuery,
): { readonly traces: readonly StoredTrace[]; readonly more: boolean } {
  const traces: StoredTrace[] = [];
  for (let index = start; index >= 0; index--) {
    const trace = traceAt(sorted, index);
    if (trace.time <= query.from || trace.time < query.oldest) break;
    if (trace.time >= query.to || trace.recordTime > query.now || !query.matches(trace)) continue;
    if (traces.length === query.limit) return { traces, more: true };
    traces.push(trace);
  }
  return { traces, more: false };
}

export function createTraceStore(): TraceStore {
  let sorted: StoredTrace[] = [];
  const byId = new Map<string, StoredTrace>();

  return {
    add(traces) {
      if (traces.length === 0) return;
      const fresh = traces.filter((trace) => !byId.has(trace.id));
      for (const trace of fresh) byId.set(trace.id, trace);
      const last = sorted.at(-1);
      const ordered = [...fresh].sort(compare);
      const first = ordered[0];
      if (first === undefined) return;
      if (last === undefined || compare(last, first) < 0) {
        for (const trace of ordered) sorted.push(trace);
      } else {
        sorted = merge(sorted, ordered);
      }
    },

    get: (id) => byId.get(id),

    page(query) {
      let index: number;
      if (query.marker === undefined) {
        index = lowerBound(sorted, { time: query.to, id: "" }) - 1;
      } else {
        const marker = byId.get(query.marker);
        if (marker === undefined) return { ok: false, reason: "unknown-marker" };
        index = lowerBound(sorted, marker) - 1;
      }
      return { ok: true, ...pageDownFrom(sorted, index, query) };
    },

    idsIn(window, now) {
      const ids: string[] = [];
      for (let index = lowerBound(sorted, { time: window.to, id: "" }) - 1; index >= 0; index--) {
        const trace = traceAt(sorted, index);
        if (trace.time <= window.from) break;
        if (trace.recordTime <= now) ids.push(trace.id);
      }
      return ids;
    },

    prune(before) {
      const cut = lowerBound(sorted, { time: before, id: "" });
      if (cut === 0) return 0;
      for (const trace of sorted.slice(0, cut)) byId.delete(trace.id);
      sorted = sorted.slice(cut);
      return cut;
    },

    get size() {
      return sorted.length;
    },
  };
}
