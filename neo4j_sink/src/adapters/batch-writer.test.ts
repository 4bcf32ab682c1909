import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError, createLogger, ErrorCode } from "@cts/shared";
import type { GraphRow } from "../core/graph-rows.js";
import type { SinkMetrics } from "../core/ports.js";
import type { WriteBatch } from "../core/write-batch.js";
import { createBatchWriter, type BatchWriterOptions } from "./batch-writer.js";
import type { GraphStore } from "./graph-store.js";

// A stand-in for the Neo4j port: these tests are about grouping, ordering and failure
// handling in the writer; the real Neo4j path is covered by the integration tests.
class FakeStore implements GraphStore {
  readonly writes: string[][] = [];
  failWith: ((batch: WriteBatch) => AppError | undefined) | undefined;
  pingFails = false;
  gate: Promise<void> = Promise.resolve();

  async ensureSchema(): Promise<void> {
    await Promise.resolve();
  }
  async write(batch: WriteBatch): Promise<void> {
    await this.gate;
    const error = this.failWith?.(batch);
    if (error !== undefined) throw error;
    this.writes.push(batch.actions.map((a) => a.id));
  }
  async ping(): Promise<void> {
    await Promise.resolve();
    if (this.pingFails) throw unavailable();
  }
}

const unavailable = () =>
  new AppError(ErrorCode.NEO4J_UNAVAILABLE, "Neo4j is down", { retryable: true });

const metrics: SinkMetrics = {
  received: () => undefined,
  rejected: () => undefined,
  batchCommitted: () => undefined,
  neo4jError: () => undefined,
  queueDepth: () => undefined,
};

function rows(...ids: string[]): GraphRow[] {
  return ids.map((id) => ({ id }) as unknown as GraphRow);
}

function writer(store: FakeStore, overrides: Partial<BatchWriterOptions> = {}) {
  return createBatchWriter({
    store,
    logger: createLogger({ name: "test", level: "silent" }),
    metrics,
    lingerMs: 20,
    maxBatchEvents: 100,
    maxQueuedEvents: 1000,
    probeIntervalMs: 10,
    ...overrides,
  });
}

describe("batch writer", () => {
  test("requests arriving during a transaction share the next one, answered after its commit", async () => {
    const store = new FakeStore();
    let open!: () => void;
    store.gate = new Promise((resolve) => (open = resolve));
    const sink = writer(store);
    let settled = 0;
    const first = sink.submit(rows("a")).then(() => settled++);
    await sleep(5);
    const others = [rows("b", "c"), rows("d"), rows("e")].map((r) =>
      sink.submit(r).then(() => settled++),
    );
    await sleep(40);
    assert.equal(settled, 0, "nothing is answered before its commit");
    open();
    await Promise.all([first, ...others]);
    assert.equal(settled, 4);
    assert.deepEqual(store.writes, [["a"], ["b", "c", "d", "e"]]);
    await sink.close();
  });

  test("a request larger than the maximum batch is written in several transactions", async () => {
    const store = new FakeStore();
    const sink = writer(store, { maxBatchEvents: 2 });
    await sink.submit(rows("a", "b", "c", "d", "e"));
    assert.deepEqual(store.writes, [["a", "b"], ["c", "d"], ["e"]]);
    await sink.close();
  });

  test("duplicates inside one batch are written once", async () => {
    const store = new FakeStore();
    let open!: () => void;
    store.gate = new Promise((resolve) => (open = resolve));
    const sink = writer(store);
    const first = sink.submit(rows("x"));
    await sleep(5);
    const others = [sink.submit(rows("a")), sink.submit(rows("a")), sink.submit(rows("b", "a"))];
    open();
    await Promise.all([first, ...others]);
    assert.deepEqual(store.writes, [["x"], ["a", "b"]]);
    await sink.close();
  });

  test("an outage fails the batch with NEO4J_UNAVAILABLE, refuses new work fast, and recovers alone", async () => {
    const store = new FakeStore();
    const sink = writer(store);
    store.failWith = unavailable;
    store.pingFails = true;
    await assert.rejects(sink.submit(rows("a")), { code: "NEO4J_UNAVAILABLE" });
    const writesBefore = store.writes.length;
    await assert.rejects(sink.submit(rows("b")), { code: "NEO4J_UNAVAILABLE" });
    assert.equal(store.writes.length, writesBefore, "no write is attempted while down");
    assert.equal(await sink.isReady(), false);

    store.failWith = undefined;
    store.pingFails = false;
    for (let i = 0; i < 100 && !(await sink.isReady()); i++) await sleep(10);
    assert.equal(await sink.isReady(), true);
    await sink.submit(rows("c"));
    assert.deepEqual(store.writes.at(-1), ["c"]);
    await sink.close();
  });

  test("a non-transient failure is retried per request, so only the bad request fails", async () => {
    const store = new FakeStore();
    const sink = writer(store);
    store.failWith = (batch) =>
      batch.actions.some((a) => a.id === "bad")
        ? new AppError(ErrorCode.NEO4J_FATAL, "rejected")
        : undefined;
    const good = sink.submit(rows("good"));
    const bad = sink.submit(rows("bad"));
    await good;
    await assert.rejects(bad, { code: "NEO4J_FATAL" });
    assert.deepEqual(store.writes, [["good"]]);
    assert.equal(await sink.isReady(), true, "a bad request is not an outage");
    await sink.close();
  });

  test("a full queue answers 503 instead of growing", async () => {
    const store = new FakeStore();
    let open!: () => void;
    store.gate = new Promise((resolve) => (open = resolve));
    const sink = writer(store, { maxQueuedEvents: 3, maxBatchEvents: 2, lingerMs: 0 });
    const first = sink.submit(rows("a", "b"));
    await sleep(5);
    const second = sink.submit(rows("c", "d"));
    await assert.rejects(sink.submit(rows("e", "f")), {
      code: "NEO4J_UNAVAILABLE",
      message: /queue is full/,
    });
    open();
    await Promise.all([first, second]);
    await sink.close();
  });

  test("close() writes what is queued, then refuses new work", async () => {
    const store = new FakeStore();
    const sink = writer(store, { lingerMs: 1000 });
    const pending = sink.submit(rows("a"));
    await sink.close();
    await pending;
    assert.deepEqual(store.writes, [["a"]]);
    await assert.rejects(sink.submit(rows("b")), {
      code: "NEO4J_UNAVAILABLE",
      message: /shutting down/,
    });
    assert.equal(await sink.isReady(), false);
  });
});
