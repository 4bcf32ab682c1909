import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError, createLogger, ErrorCode } from "@cts/shared";
import { createBatchWriter, type BatchWriterOptions } from "./batch-writer.js";
import { contentionDelayMs } from "./contention-retry.js";
import type { GraphRow } from "./graph-rows.js";
import type { GraphStore, SinkMetrics, WriteOutcome } from "./ports.js";

// A stand-in for the Neo4j port: these tests are about grouping, ordering and failure
// handling in the writer; the real Neo4j path is covered by the integration tests.
class FakeStore implements GraphStore {
  readonly writes: string[][] = [];
  failWith: ((rows: readonly GraphRow[]) => AppError | undefined) | undefined;
  conflicts: string[] = [];
  pingFails = false;
  gate: Promise<void> = Promise.resolve();

  async ensureSchema(): Promise<void> {
    await Promise.resolve();
  }
  async write(rows: readonly GraphRow[]): Promise<WriteOutcome> {
    await this.gate;
    const error = this.failWith?.(rows);
    if (error !== undefined) throw error;
    const ids = [...new Set(rows.map((row) => row.id))];
    this.writes.push(ids);
    const conflicts = this.conflicts;
    this.conflicts = [];
    return { events: ids.length, written: ids.length - conflicts.length, conflicts };
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
  eventConflicts: () => undefined,
  writeRetried: () => undefined,
  queueDepth: () => undefined,
};

function rows(...ids: string[]): GraphRow[] {
  return ids.map((id) => ({ id }) as unknown as GraphRow);
}

function writer<Trace = unknown>(
  store: FakeStore,
  overrides: Partial<BatchWriterOptions<Trace>> = {},
) {
  return createBatchWriter<Trace>({
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

/**
 * A writer whose first transaction, of the events `ids`, is under way and held until `open()`:
 * what is submitted meanwhile waits for the next one.
 */
async function writerBusyWith<Trace = unknown>(
  ids: string[],
  overrides: Partial<BatchWriterOptions<Trace>> = {},
) {
  const store = new FakeStore();
  let open!: () => void;
  store.gate = new Promise((resolve) => (open = resolve));
  const sink = writer(store, overrides);
  const first = sink.submit(rows(...ids));
  await sleep(5);
  return { store, sink, first, open };
}

describe("batch writer", () => {
  test("requests arriving during a transaction share the next one, answered after its commit", async () => {
    const { store, sink, first: held, open } = await writerBusyWith(["a"]);
    let settled = 0;
    const first = held.then(() => settled++);
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
    const { store, sink, first, open } = await writerBusyWith(["x"]);
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
      batch.some((a) => a.id === "bad")
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
    const { sink, first, open } = await writerBusyWith(["a", "b"], {
      maxQueuedEvents: 3,
      maxBatchEvents: 2,
      lingerMs: 0,
    });
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

  test("contention is retried inside the writer with backoff; the sink stays ready", async () => {
    const store = new FakeStore();
    let retried = 0;
    const sink = writer(store, {
      metrics: {
        ...metrics,
        writeRetried: () => {
          retried++;
        },
      },
      contentionRetry: { baseDelayMs: 1, maxDelayMs: 5, budgetMs: 5_000 },
    });
    let failures = 3;
    store.failWith = () =>
      failures-- > 0
        ? new AppError(ErrorCode.NEO4J_TRANSIENT, "DeadlockDetected", { retryable: true })
        : undefined;
    await sink.submit(rows("a", "b"));
    assert.equal(retried, 3);
    assert.deepEqual(store.writes, [["a", "b"]]);
    assert.equal(await sink.isReady(), true, "contention is not an outage");
    await sink.close();
  });

  test("contention beyond the retry budget answers 503 for that batch only; the sink stays up", async () => {
    const store = new FakeStore();
    const sink = writer(store, {
      contentionRetry: { baseDelayMs: 1, maxDelayMs: 2, budgetMs: 30 },
    });
    store.failWith = () => new AppError(ErrorCode.NEO4J_TRANSIENT, "lock timeout");
    await assert.rejects(sink.submit(rows("a")), { code: "NEO4J_TRANSIENT" });
    assert.equal(await sink.isReady(), true);
    store.failWith = undefined;
    await sink.submit(rows("b"));
    assert.deepEqual(store.writes, [["b"]]);
    await sink.close();
  });

  test("conflicting redeliveries are counted and logged by event id; the request still succeeds", async () => {
    const store = new FakeStore();
    const counted: number[] = [];
    const lines: { eventId?: string }[] = [];
    const logger = createLogger({ name: "test", level: "warn" });
    const capture = {
      ...logger,
      warn: (fields: { eventId?: string }) => void lines.push(fields),
    } as unknown as typeof logger;
    const sink = writer(store, {
      logger: capture,
      metrics: { ...metrics, eventConflicts: (n) => void counted.push(n) },
    });
    store.conflicts = ["a"];
    await sink.submit(rows("a", "b"));
    assert.deepEqual(counted, [1]);
    assert.deepEqual(
      lines.map((line) => line.eventId),
      ["a"],
    );
    await sink.close();
  });

  test("after a batch of several requests, a lone request lingers lingerMs for company", async () => {
    const { store, sink, first, open } = await writerBusyWith(["a"], { lingerMs: 80 });
    const waiting = [sink.submit(rows("b")), sink.submit(rows("c")), sink.submit(rows("d"))];
    open();
    await Promise.all([first, ...waiting]);
    const started = performance.now();
    await sink.submit(rows("e"));
    assert.ok(performance.now() - started >= 75, "the lone request waited for the linger");
    assert.deepEqual(store.writes, [["a"], ["b", "c", "d"], ["e"]]);
    await sink.close();
  });

  test("an outage while isolating a failed batch answers every request of it with 503", async () => {
    const { store, sink, first, open } = await writerBusyWith(["x"]);
    // The batch [a, b] fails for a reason of its own; retrying a alone meets an outage.
    store.failWith = (batch) => {
      if (batch.some((row) => row.id === "x")) return undefined;
      return batch.length > 1 ? new AppError(ErrorCode.NEO4J_FATAL, "rejected") : unavailable();
    };
    store.pingFails = true;
    const a = sink.submit(rows("a"));
    const b = sink.submit(rows("b"));
    open();
    await first;
    await assert.rejects(a, { code: "NEO4J_UNAVAILABLE" });
    await assert.rejects(b, { code: "NEO4J_UNAVAILABLE" });
    assert.equal(await sink.isReady(), false);
    await sink.close();
  });

  test("the tracer sees each request enqueued and each transaction with its requests", async () => {
    const transactions: (string | undefined)[][] = [];
    let next = 0;
    const { sink, first, open } = await writerBusyWith(["a"], {
      tracer: {
        enqueued: (events) => `request ${String(next++)} (${String(events)})`,
        transaction: (requests, _batch, work) => {
          transactions.push([...requests]);
          return work();
        },
      },
    });
    const others = [sink.submit(rows("b", "c")), sink.submit(rows("d"))];
    open();
    await Promise.all([first, ...others]);
    assert.deepEqual(transactions, [["request 0 (1)"], ["request 1 (2)", "request 2 (1)"]]);
    await sink.close();
  });

  test("the backoff delay is full jitter under an exponential, capped ceiling", () => {
    const retry = { baseDelayMs: 10, maxDelayMs: 500, budgetMs: 1000 };
    assert.equal(contentionDelayMs(0, retry, 0.999), 9);
    assert.equal(contentionDelayMs(3, retry, 0.5), 40);
    assert.equal(contentionDelayMs(20, retry, 0.999), 499);
    assert.equal(contentionDelayMs(5, retry, 0), 0);
  });
});
