import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "@cts/shared";
import { freshPollState, restorePollState, toSavedStates } from "./saved-state.js";
import { RETENTION_MS } from "./window.js";

const logger = createLogger({ name: "saved-state-test", level: "silent" });
const now = 1_700_000_000_000;
const context = { logger, stateFile: "/state/state.json", now };
const saved = [
  { checkpoint: now - 60_000, source: "https://cts/v3/a", tracker: "system", seen: [] },
  {
    checkpoint: undefined,
    start: now - 300_000,
    source: "https://cts/v3/b",
    tracker: "system",
    seen: [["id-1", now - 1000] as const],
  },
];

describe("saved poll state", () => {
  test("a project resumes from the entry of its own CTS source and tracker", () => {
    const a = restorePollState(saved, { source: "https://cts/v3/a", tracker: "system" }, context);
    assert.equal(a.checkpoint, now - 60_000);
    const b = restorePollState(saved, { source: "https://cts/v3/b", tracker: "system" }, context);
    assert.equal(b.checkpoint, undefined);
    assert.equal(b.start, now - 300_000, "the first window's start survives a failed first run");
    assert.ok(b.seen.has("id-1"));
  });

  test("another tenant or tracker, or nothing saved yet, starts afresh", () => {
    for (const state of [
      restorePollState(saved, { source: "https://cts/v3/c", tracker: "system" }, context),
      restorePollState(saved, { source: "https://cts/v3/a", tracker: "audit" }, context),
      restorePollState(undefined, { source: "https://cts/v3/a", tracker: "system" }, context),
    ]) {
      assert.deepEqual([state.checkpoint, state.start], [undefined, undefined]);
      assert.equal(state.seen.size, 0);
    }
  });

  test("a checkpoint older than CTS retention is still where the project resumes", () => {
    const old = [{ ...saved[0]!, checkpoint: now - RETENTION_MS - 1 }];
    const state = restorePollState(old, { source: "https://cts/v3/a", tracker: "system" }, context);
    assert.equal(state.checkpoint, now - RETENTION_MS - 1);
  });

  test("what is saved round-trips through restore", () => {
    const state = freshPollState();
    state.checkpoint = now;
    state.seen.add("id-2", now - 10);
    const [entry] = toSavedStates([{ source: "https://cts/v3/a", tracker: "system", state }]);
    assert.deepEqual(entry, {
      checkpoint: now,
      start: undefined,
      source: "https://cts/v3/a",
      tracker: "system",
      seen: [["id-2", now - 10]],
    });
    const back = restorePollState(
      [entry],
      { source: "https://cts/v3/a", tracker: "system" },
      context,
    );
    assert.equal(back.checkpoint, now);
    assert.ok(back.seen.has("id-2"));
  });
});
