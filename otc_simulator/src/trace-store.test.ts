import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { createTraceStore, type PageQuery, type StoredTrace } from "./trace-store.js";

const given = (id: string, time: number, recordTime = time): StoredTrace => ({
  id,
  time,
  recordTime,
  raw: { trace_id: id, time },
});

/** Pages through the store like a client: `next` = the last id while the store says there is more. */
function pageAll(store: ReturnType<typeof createTraceStore>, query: Omit<PageQuery, "marker">) {
  const ids: string[] = [];
  let marker: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = store.page({ ...query, marker });
    assert.ok(page.ok);
    ids.push(...page.traces.map((trace) => trace.id));
    const last = page.traces.at(-1);
    if (!page.more || last === undefined) return { ids, pages: pages + 1 };
    marker = last.id;
  }
  assert.fail("paging did not end");
}

describe("trace store paging", () => {
  test("any traces, window, page size and visibility: pages give the visible traces exactly once, newest first", () => {
    const trace = fc.record({
      id: fc.uuid(),
      time: fc.integer({ min: 0, max: 40 }), // a small range makes many ties on one millisecond
      lag: fc.integer({ min: 0, max: 20 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(trace, { selector: (t) => t.id, maxLength: 120 }),
        fc.integer({ min: -1, max: 40 }),
        fc.integer({ min: 0, max: 42 }),
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 0, max: 60 }),
        (traces, from, to, limit, now) => {
          const store = createTraceStore();
          // Added in several batches and out of order, as live generation and addTraces do.
          const stored = traces.map((t) => given(t.id, t.time, t.time + t.lag));
          store.add(stored.slice(0, 40));
          store.add(stored.slice(40));
          const { ids } = pageAll(store, { from, to, limit, now, oldest: 0, matches: () => true });
          const expected = stored
            .filter((t) => t.time > from && t.time < to && t.recordTime <= now)
            .sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
            .map((t) => t.id);
          assert.deepEqual(ids, expected);
          assert.deepEqual(store.idsIn({ from, to }, now), expected);
        },
      ),
    );
  });

  test("a full last page says there is no more; filters and retention apply", () => {
    const store = createTraceStore();
    store.add([given("a", 10), given("b", 20), given("c", 30), given("d", 40)]);
    const all = { from: 0, to: 100, now: 100, oldest: 0, matches: () => true };
    assert.deepEqual(pageAll(store, { ...all, limit: 2 }), { ids: ["d", "c", "b", "a"], pages: 2 });
    assert.deepEqual(pageAll(store, { ...all, limit: 4 }), { ids: ["d", "c", "b", "a"], pages: 1 });
    assert.deepEqual(pageAll(store, { ...all, limit: 1, matches: (t) => t.id !== "c" }).ids, [
      "d",
      "b",
      "a",
    ]);
    assert.deepEqual(pageAll(store, { ...all, limit: 5, oldest: 20 }).ids, ["d", "c", "b"]);
  });

  test("an unknown marker is reported; duplicates are ignored; prune drops the oldest", () => {
    const store = createTraceStore();
    store.add([given("a", 10), given("b", 20)]);
    store.add([given("a", 99)]);
    assert.equal(store.size, 2);
    assert.deepEqual(
      store.page({
        from: 0,
        to: 100,
        limit: 5,
        marker: "zz",
        now: 100,
        oldest: 0,
        matches: () => true,
      }),
      { ok: false, reason: "unknown-marker" },
    );
    assert.equal(store.prune(15), 1);
    assert.equal(store.get("a"), undefined);
    assert.equal(store.size, 1);
  });
});
