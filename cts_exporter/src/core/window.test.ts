import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { forgetBefore, inWindow, nextWindow, RETENTION_MS } from "./window.js";
import { SeenIds } from "./seen-ids.js";

const MIN = 60_000;
const policy = { lookbackMs: 5 * MIN, overlapMs: 10 * MIN, maxSpanMs: 60 * MIN };

describe("poll windows", () => {
  test("the first window looks back CTS_FROM minutes", () => {
    const now = 1_700_000_000_000;
    const window = nextWindow(undefined, now, policy);
    assert.equal(window.to, now);
    assert.equal(window.from, now - 5 * MIN - 1, "from is exclusive, so it starts 1 ms early");
  });

  test("later windows start an overlap before the checkpoint, so late traces are caught", () => {
    const now = 1_700_000_600_000;
    const checkpoint = now - 5 * MIN;
    const window = nextWindow(checkpoint, now, policy);
    assert.equal(window.from, checkpoint - 10 * MIN - 1);
    // A trace stamped before the checkpoint but recorded after it is inside the next window.
    assert.ok(inWindow(checkpoint - 9 * MIN, window));
  });

  test("a trace exactly at a cycle boundary is read by one of the two cycles", () => {
    const first = nextWindow(undefined, 1_000_000_000, policy);
    const second = nextWindow(first.to, first.to + 5 * MIN, policy);
    assert.equal(inWindow(first.to, first), false);
    assert.equal(inWindow(first.to, second), true);
  });

  test("never asks for more than CTS's 7-day retention", () => {
    const now = 1_800_000_000_000;
    const window = nextWindow(now - 30 * 24 * 60 * MIN, now, policy);
    assert.ok(window.from >= now - RETENTION_MS);
    assert.ok(window.from < now);
  });

  test("a checkpoint in the future (clock jump) still yields a valid window", () => {
    const now = 1_700_000_000_000;
    const window = nextWindow(now + 60 * MIN, now, policy);
    assert.ok(window.from < window.to);
  });

  test("ids older than the next window's start are forgotten, newer ones kept", () => {
    const seen = new SeenIds();
    const checkpoint = 100 * MIN;
    seen.add("old", checkpoint - 11 * MIN);
    seen.add("inside-overlap", checkpoint - 9 * MIN);
    seen.pruneBefore(forgetBefore(checkpoint, policy));
    assert.equal(seen.has("old"), false);
    assert.equal(seen.has("inside-overlap"), true);
  });

  test("the seen set is capped, dropping the oldest insertions", () => {
    const seen = new SeenIds(3);
    for (const id of ["a", "b", "c", "d"]) seen.add(id, 1);
    assert.equal(seen.size, 3);
    assert.equal(seen.has("a"), false);
    assert.equal(seen.has("d"), true);
  });
});
