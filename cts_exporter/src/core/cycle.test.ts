import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CtsTrace, createLogger, type RawCtsTrace } from "@cts/shared";
import { runCycle, type CycleOptions, type PollState } from "./cycle.js";
import { runPoller } from "./poller.js";
import type {
  AttemptResult,
  Clock,
  CoreDeps,
  EventTransport,
  ExporterMetrics,
  TraceEvent,
} from "./ports.js";
import { SeenIds } from "./seen-ids.js";
import { inWindow, type TimeWindow } from "./window.js";

const MIN = 60_000;
const T0 = 1_700_000_000_000;
const origin = {
  source: "https://cts.example/v3/p1",
  region: "eu-de",
  projectId: "p1",
  domainId: "d1",
};
const silent = createLogger({ name: "test", level: "silent" });

/** A CTS stand-in: a trace is visible once its record time has passed (late traces). */
function fakeCts(clock: { now(): number }) {
  const traces: { raw: RawCtsTrace; recorded: number }[] = [];
  return {
    add(id: string, time: number, recordDelayMs = 0) {
      traces.push({
        raw: { trace_id: id, trace_name: "login", service_type: "IAM", time },
        recorded: time + recordDelayMs,
      });
    },
    source: {
      origin,
      async *listTraces(window: TimeWindow) {
        const visible = traces
          .filter((t) => t.recorded <= clock.now() && inWindow(Number(t.raw["time"]), window))
          .sort((a, b) => Number(b.raw["time"]) - Number(a.raw["time"]));
        for (const t of visible) {
          await Promise.resolve();
          yield { trace: CtsTrace.parse(t.raw), raw: t.raw };
        }
      },
    },
  };
}

function fakeClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    sleep: (ms, signal) => {
      if (signal?.aborted === true) return Promise.reject(new Error("aborted"));
      now += ms;
      return Promise.resolve();
    },
  };
}

/** Records every event it accepts; `answer` scripts the sink's status per event id. */
function recordingTransport(
  answer: (event: TraceEvent) => AttemptResult = () => ({
    kind: "response",
    status: 202,
    body: "",
  }),
) {
  const received: string[] = [];
  const transport: EventTransport = {
    mode: "binary",
    attempt(events) {
      const [event] = events;
      assert.ok(event);
      const result = answer(event);
      if (result.kind === "response" && result.status >= 200 && result.status < 300)
        received.push(event.id);
      return Promise.resolve(result);
    },
  };
  return { transport, received };
}

const noMetrics: ExporterMetrics = {
  tracesCollected: () => undefined,
  eventsDelivered: () => undefined,
  eventsFailed: () => undefined,
  retried: () => undefined,
  duplicatesSkipped: () => undefined,
  cycleFinished: () => undefined,
  checkpointMoved: () => undefined,
};

const options: CycleOptions = {
  tracker: "system",
  window: { lookbackMs: 5 * MIN, overlapMs: 10 * MIN },
  retry: { maxAttempts: 3, nextDelayMs: () => 1_000 },
  concurrency: 4,
  batchSize: 1,
  overrides: {},
};

function setup(answer?: (event: TraceEvent) => AttemptResult) {
  const clock = fakeClock(T0);
  const cts = fakeCts(clock);
  const sink = recordingTransport(answer);
  const deps: CoreDeps = {
    source: cts.source,
    transport: sink.transport,
    metrics: noMetrics,
    clock,
    logger: silent,
  };
  const state: PollState = { checkpoint: undefined, seen: new SeenIds() };
  const signal = new AbortController().signal;
  return {
    clock,
    cts,
    sink,
    deps,
    state,
    cycle: () => runCycle(deps, state, { ...options, signal }),
  };
}

describe("poll cycles", () => {
  test("three cycles with late-recorded traces deliver every trace exactly once", async () => {
    const { clock, cts, sink, cycle } = setup();
    const expected: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `t${i}`;
      expected.push(id);
      // Spread over three intervals; every third trace is recorded 4 minutes late.
      cts.add(id, T0 - 4 * MIN + i * 30_000, i % 3 === 0 ? 4 * MIN : 0);
    }
    for (let c = 0; c < 3; c++) {
      clock.advance(5 * MIN);
      const summary = await cycle();
      assert.equal(summary.ok, true);
    }
    clock.advance(5 * MIN);
    await cycle();
    assert.deepEqual([...sink.received].sort(), [...expected].sort());
    assert.equal(new Set(sink.received).size, sink.received.length, "no trace delivered twice");
  });

  test("the checkpoint stays while the sink fails, and nothing is lost or repeated once it recovers", async () => {
    let down = true;
    const { clock, cts, sink, state, cycle } = setup(() =>
      down
        ? { kind: "response", status: 503, retryAfter: "1", body: "busy" }
        : { kind: "response", status: 202, body: "" },
    );
    for (let i = 0; i < 10; i++) cts.add(`a${i}`, T0 - MIN + i * 1000);
    const firstWindow = await cycle();
    assert.equal(firstWindow.ok, false);
    assert.equal(state.checkpoint, undefined, "no checkpoint while nothing was acknowledged");
    assert.match(firstWindow.error ?? "", /HTTP 503/);
    clock.advance(MIN);
    const again = await cycle();
    assert.equal(again.ok, false);
    assert.equal(state.checkpoint, undefined);
    down = false;
    clock.advance(MIN);
    const recovered = await cycle();
    assert.equal(recovered.ok, true);
    assert.equal(recovered.sent, 10);
    assert.equal(state.checkpoint, recovered.window.to);
    assert.deepEqual(
      [...sink.received].sort(),
      Array.from({ length: 10 }, (_, i) => `a${i}`).sort(),
    );
  });

  test("a 400 for one event is logged and counted; the rest are delivered and the checkpoint moves", async () => {
    const { cts, sink, state, cycle } = setup((event) =>
      event.id === "bad"
        ? { kind: "response", status: 400, body: '{"error":"not a trace"}' }
        : { kind: "response", status: 202, body: "" },
    );
    cts.add("good1", T0 - 2 * MIN);
    cts.add("bad", T0 - 2 * MIN + 1);
    cts.add("good2", T0 - MIN);
    const summary = await cycle();
    assert.equal(summary.rejected, 1);
    assert.equal(summary.sent, 2);
    assert.equal(summary.ok, true, "a final rejection does not block the checkpoint");
    assert.equal(summary.allDelivered, false, "--once reports it");
    assert.notEqual(state.checkpoint, undefined);
    assert.deepEqual(sink.received.sort(), ["good1", "good2"]);
  });

  test("network errors are retried, then delivered", async () => {
    let failures = 2;
    const { cts, sink, cycle } = setup(() =>
      failures-- > 0
        ? { kind: "network-error", message: "ECONNREFUSED" }
        : { kind: "response", status: 202, body: "" },
    );
    cts.add("x", T0 - MIN);
    const summary = await cycle();
    assert.equal(summary.ok, true);
    assert.deepEqual(sink.received, ["x"]);
  });

  test("a listing failure keeps the checkpoint and reports the error", async () => {
    const { deps, state } = setup();
    const broken: CoreDeps = {
      ...deps,
      source: {
        origin,
        // eslint-disable-next-line require-yield
        async *listTraces() {
          await Promise.resolve();
          throw new Error("CTS answered 500 five times");
        },
      },
    };
    const summary = await runCycle(broken, state, {
      ...options,
      signal: new AbortController().signal,
    });
    assert.equal(summary.ok, false);
    assert.equal(state.checkpoint, undefined);
    assert.match(summary.error ?? "", /CTS answered 500/);
  });

  test("traces listed but not yet sent when the listing fails are sent by the next cycle", async () => {
    const { deps, state, sink } = setup();
    let broken = true;
    const source = {
      origin,
      async *listTraces() {
        for (let i = 0; i < 5; i++) {
          await Promise.resolve();
          const raw = { trace_id: `p${i}`, trace_name: "login", time: T0 - MIN + i };
          yield { trace: CtsTrace.parse(raw), raw };
        }
        if (broken) throw new Error("CTS answered 500 on page 2");
      },
    };
    const batched = { ...options, batchSize: 10, signal: new AbortController().signal };
    const failed = await runCycle({ ...deps, source }, state, batched);
    assert.equal(failed.ok, false);
    assert.equal(sink.received.length, 0, "the half-filled batch was never sent");
    broken = false;
    const next = await runCycle({ ...deps, source }, state, batched);
    assert.equal(next.ok, true);
    assert.equal(next.sent, 5);
  });

  test("a batch answered 413 is split in halves until it fits; nothing is lost", async () => {
    const { cts, deps, state } = setup();
    const delivered: string[] = [];
    const splitting: CoreDeps = {
      ...deps,
      transport: {
        mode: "batch",
        attempt: (events) => {
          if (events.length > 3)
            return Promise.resolve({ kind: "response", status: 413, body: "too large" });
          delivered.push(...events.map((e) => e.id));
          return Promise.resolve({ kind: "response", status: 202, body: "" });
        },
      },
    };
    for (let i = 0; i < 10; i++) cts.add(`s${i}`, T0 - MIN + i);
    const summary = await runCycle(splitting, state, {
      ...options,
      batchSize: 10,
      signal: new AbortController().signal,
    });
    assert.equal(summary.ok, true);
    assert.equal(summary.rejected, 0);
    assert.equal(summary.sent, 10);
    assert.deepEqual(delivered.sort(), Array.from({ length: 10 }, (_, i) => `s${i}`).sort());
  });

  test("batch mode groups events into requests of batchSize", async () => {
    const { cts, deps, state } = setup();
    const sizes: number[] = [];
    const batching: CoreDeps = {
      ...deps,
      transport: {
        mode: "batch",
        attempt: (events) => {
          sizes.push(events.length);
          return Promise.resolve({ kind: "response", status: 202, body: "" });
        },
      },
    };
    for (let i = 0; i < 25; i++) cts.add(`b${i}`, T0 - MIN + i);
    const summary = await runCycle(batching, state, {
      ...options,
      batchSize: 10,
      signal: new AbortController().signal,
    });
    assert.equal(summary.sent, 25);
    assert.deepEqual(
      sizes.sort((a, b) => b - a),
      [10, 10, 5],
    );
  });

  test("the poller runs one cycle at start, then one per interval, and never overlaps cycles", async () => {
    const { clock, cts, deps, state } = setup();
    cts.add("p1", T0 - MIN);
    const controller = new AbortController();
    const starts: number[] = [];
    await runPoller(deps, state, {
      ...options,
      intervalMs: 5 * MIN,
      failureRetryMs: 30_000,
      once: false,
      signal: controller.signal,
      onCycle: (summary) => {
        starts.push(summary.window.to);
        if (starts.length === 3) controller.abort();
      },
    });
    assert.deepEqual(starts, [T0, T0 + 5 * MIN, T0 + 10 * MIN]);
    assert.ok(clock.now() >= T0 + 10 * MIN);
  });
});
