import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createStateFile, readState, writeState } from "./state-file.js";

describe("checkpoint file", () => {
  test("round-trips and leaves no temporary files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-state-"));
    const path = join(dir, "nested", "state.json");
    assert.equal(await readState(path), undefined, "a missing file means no checkpoint yet");
    const state = {
      checkpoint: 1_700_000_000_000,
      source: "https://cts/v3/p",
      tracker: "system",
      seen: [["a", 1] as const],
    };
    await writeState(path, state);
    await writeState(path, { ...state, checkpoint: 1_700_000_060_000 });
    const read = await readState(path);
    assert.ok(read);
    assert.equal(read.checkpoint, 1_700_000_060_000);
    assert.deepEqual(read.seen, [["a", 1]]);
    assert.deepEqual(await readdir(join(dir, "nested")), ["state.json"]);
    assert.match(await readFile(path, "utf8"), /"version":1/);
  });

  test("the first window's start is kept while there is no checkpoint", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-state-"));
    const path = join(dir, "state.json");
    const state = {
      checkpoint: undefined,
      start: 1_700_000_000_000,
      source: "s",
      tracker: "t",
      seen: [],
    };
    await writeState(path, state);
    assert.equal((await readState(path))?.start, 1_700_000_000_000);
  });

  test("as a checkpoint store: saves started together run one after another, the last one wins", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-state-"));
    const store = createStateFile(join(dir, "state.json"));
    assert.equal(await store.load(), undefined);
    const entry = (source: string, checkpoint: number) => ({
      checkpoint,
      source,
      tracker: "system",
      seen: [[`id-${checkpoint}`, checkpoint] as const],
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        store.save([entry("https://cts/v3/a", index), entry("https://cts/v3/b", 100 + index)]),
      ),
    );
    assert.deepEqual(await store.load(), [
      { ...entry("https://cts/v3/a", 19), start: undefined },
      { ...entry("https://cts/v3/b", 119), start: undefined },
    ]);
    assert.deepEqual(await readdir(dir), ["state.json"], "no temporary file left behind");
  });

  test("a corrupt file is a configuration error that says what to do", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-state-"));
    const path = join(dir, "state.json");
    await writeFile(path, "{ half");
    await assert.rejects(readState(path), (error: Error & { code?: string }) => {
      assert.equal(error.code, "CONFIG_INVALID");
      assert.match(error.message, /not a checkpoint written by cts_exporter; move it away/);
      return true;
    });
  });
});
