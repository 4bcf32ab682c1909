import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CtsTrace, createLogger, type RawCtsTrace } from "@cts/shared";
import { runCycle, type CycleOptions, type PollState } from "./cycle.js";
import { Limiter } from "./limiter.js";
import { failureDelay, runPoller } from "./poller.js";
import type {
  AttemptResult,
  Clock,
  CoreDeps,
  DeadLetter,
  EventTransport,
  ExporterMetrics,
  InvalidListing,
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
    /** An entry that fails CTS validation (here: a trace_name that is not text). */
    addInvalid(id: string, time: number) {
      traces.push({ raw: { trace_id: id, trace_name: 42, time }, recorded: time });
    },
    source: {
      origin,
      async *listTraces(
        window: TimeWindow,
        options?: { onInvalid?: (invalid: InvalidListing) => void },
      ) {
        const visible = traces
          .filter((t) => t.recorded <= clock.now() && inWindow(Number(t.raw["time"]), window))
          .sort((a, b) => Number(b.raw["time"]) - Number(a.raw["time"]));
        for (const t of visible) {
          await Promise.resolve();
          const parsed = CtsTrace.safeParse(t.raw);
          if (parsed.success) yield { trace: parsed.data, raw: t.raw };
          else
            options?.onInvalid?.({
              traceId: String(t.raw["trace_id"]),
              reason: "trace_name: expected string",
              raw: t.raw,
            });
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

const accepted: AttemptResult = { kind: "response", status: 202, body: "" };
const isAccepted = (result: AttemptResult) =>
  result.kind === "response" && result.status >= 200 && result.status < 300;

/** Records every event it accepts; `answer` scripts the sink's status per event id. */
function recordingTransport(answer: (event: TraceEvent) => AttemptResult = () => accepted) {
  const received: string[] = [];
  const transport: EventTransport = {
    mode: "binary",
    attempt(events) {
      const [event] = events;
      assert.ok(event);
      const result = answer(event);
      if (isAccepted(result)) received.push(event.id);
      return Promise.resolve(result);
    },
  };
  return { transport, received };
}

/**
 * A batch-mode sink: `answer` scripts the status per request; keeps each request's ids and the
 * ids it accepted.
 */
function batchTransport(answer: (ids: readonly string[]) => AttemptResult = () => accepted) {
  const requests: string[][] = [];
  const delivered: string[] = [];
  const transport: EventTransport = {
    mode: "batch",
    attempt(events) {
      const ids = events.map((e) => e.id);
      requests.push(ids);
      const result = answer(ids);
      if (isAccepted(result)) delivered.push(...ids);
      return Promise.resolve(result);
    },
  };
  return { transport, requests, delivered };
}

const noMetrics: ExporterMetrics = {
  tracesCollected: () => undefined,
  eventsDelivered: () => undefined,
  eventsFailed: () => undefined,
  eventsDeadLettered: () => undefined,
  retried: () => undefined,
  duplicatesSkipped: () => undefined,
  cycleFinished: () => undefined,
  checkpointMoved: () => undefined,
};

const options: CycleOptions = {
  tracker: "system",
  window: { lookbackMs: 5 * MIN, overlapMs: 10 * MIN, maxSpanMs: 60 * MIN },
  retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
  concurrency: 4,
  batchSize: 1,
  overrides: {},
};

/** A cycle of batches of up to ten events. */
const tenPerBatch = (deps: CoreDeps, state: PollState, transport: EventTransport) =>
  runCycle({ ...deps, transport }, state, {
    ...options,
    batchSize: 10,
    signal: new AbortController().signal,
  });

/** A dead-letter sink in memory; `broken` makes every write fail like a full disk. */
function memoryDeadLetters() {
  const letters: DeadLetter[] = [];
  const sink = {
    letters,
    broken: false,
    location: "memory",
    write(letter: DeadLetter): Promise<void> {
      if (sink.broken) return Promise.reject(new Error("ENOSPC: no space left on device"));
      letters.push(letter);
      return Promise.resolve();
    },
  };
  return sink;
}

function setup(answer?: (event: TraceEvent) => AttemptResult) {
  const clock = fakeClock(T0);
  const cts = fakeCts(clock);
  const sink = recordingTransport(answer);
  const deadLetters = memoryDeadLetters();
  const deps: CoreDeps = {
    source: cts.source,
    transport: sink.transport,
    metrics: noMetrics,
    clock,
    logger: silent,
    deadLetters,
  };
  const state: PollState = { checkpoint: undefined, seen: new SeenIds() };
  const signal = new AbortController().signal;
  return {
    clock,
    cts,
    sink,
    deps,
    deadLetters,
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
      down ? { kind: "response", status: 503, retryAfter: "1", body: "busy" } : accepted,
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

  test("network errors are retried, then delivered", async () => {
    let failures = 2;
    const { cts, sink, cycle } = setup(() =>
      failures-- > 0 ? { kind: "network-error", message: "ECONNREFUSED" } : accepted,
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
    const sink = batchTransport((ids) =>
      ids.length > 3 ? { kind: "response", status: 413, body: "too large" } : accepted,
    );
    for (let i = 0; i < 10; i++) cts.add(`s${i}`, T0 - MIN + i);
    const summary = await tenPerBatch(deps, state, sink.transport);
    assert.equal(summary.ok, true);
    assert.equal(summary.rejected, 0);
    assert.equal(summary.sent, 10);
    assert.deepEqual(sink.delivered.sort(), Array.from({ length: 10 }, (_, i) => `s${i}`).sort());
  });

  test("batch mode groups events into requests of batchSize", async () => {
    const { cts, deps, state } = setup();
    const sink = batchTransport();
    for (let i = 0; i < 25; i++) cts.add(`b${i}`, T0 - MIN + i);
    const summary = await tenPerBatch(deps, state, sink.transport);
    assert.equal(summary.sent, 25);
    assert.deepEqual(
      sink.requests.map((ids) => ids.length).sort((a, b) => b - a),
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

describe("no silent loss", () => {
  test("a 400 for one event: written whole to the dead-letter file, the rest delivered, the checkpoint moves", async () => {
    const { cts, sink, state, deadLetters, cycle } = setup((event) =>
      event.id === "bad"
        ? { kind: "response", status: 400, body: '{"error":"not a trace"}' }
        : accepted,
    );
    cts.add("good1", T0 - 2 * MIN);
    cts.add("bad", T0 - 2 * MIN + 1);
    cts.add("good2", T0 - MIN);
    const summary = await cycle();
    assert.equal(summary.rejected, 1);
    assert.equal(summary.sent, 2);
    assert.equal(summary.ok, true, "a dead-lettered event does not block the checkpoint");
    assert.equal(summary.allDelivered, false, "--once reports it");
    assert.notEqual(state.checkpoint, undefined);
    assert.deepEqual(sink.received.sort(), ["good1", "good2"]);
    const [letter] = deadLetters.letters;
    assert.ok(letter !== undefined && "event" in letter);
    assert.equal(deadLetters.letters.length, 1);
    assert.equal(letter.reason, "rejected_400");
    assert.equal(letter.status, 400);
    assert.match(letter.answer, /not a trace/);
    assert.equal(letter.event.id, "bad");
    assert.equal(letter.event.data?.["trace_id"], "bad", "the whole event, data included");
  });

  test("without a dead-letter file a rejected event fails the cycle and the checkpoint stays", async () => {
    const { cts, deps, state } = setup(() => ({ kind: "response", status: 400, body: "bad" }));
    cts.add("bad", T0 - MIN);
    const summary = await runCycle({ ...deps, deadLetters: undefined }, state, {
      ...options,
      signal: new AbortController().signal,
    });
    assert.equal(summary.ok, false);
    assert.equal(state.checkpoint, undefined);
    assert.match(summary.error ?? "", /CTS_DEAD_LETTER_FILE is unset/);
    assert.equal(state.seen.has("bad"), false, "the next cycle sends it again");
  });

  test("a dead-letter file that cannot be written fails the cycle and the checkpoint stays", async () => {
    const { cts, state, deadLetters, cycle } = setup(() => ({
      kind: "response",
      status: 400,
      body: "bad",
    }));
    deadLetters.broken = true;
    cts.add("bad", T0 - MIN);
    const summary = await cycle();
    assert.equal(summary.ok, false);
    assert.equal(state.checkpoint, undefined);
    assert.match(summary.error ?? "", /ENOSPC/);
  });

  test("a trace that cannot become a CloudEvent goes to the dead-letter file with its raw trace", async () => {
    const { cts, deps, state, deadLetters } = setup();
    cts.add("t1", T0 - MIN);
    // schemaurl makes the cloudevents package refuse every 1.0 event.
    const summary = await runCycle(deps, state, {
      ...options,
      overrides: { schemaurl: "x" },
      signal: new AbortController().signal,
    });
    assert.equal(summary.ok, true);
    assert.equal(summary.rejected, 1);
    const [letter] = deadLetters.letters;
    assert.ok(letter !== undefined && "trace" in letter);
    assert.equal(letter.reason, "invalid_event");
    assert.equal((letter.trace as RawCtsTrace)["trace_id"], "t1");
  });

  test("an entry CTS lists that is not a valid trace goes to the dead-letter file whole, and the checkpoint moves on", async () => {
    const { cts, sink, state, deadLetters, cycle } = setup();
    cts.add("good-1", T0 - MIN);
    cts.addInvalid("broken", T0 - 2 * MIN);
    cts.add("good-2", T0 - 3 * MIN);
    cts.addInvalid("broken-last", T0 - 4 * MIN);
    const summary = await cycle();
    assert.equal(summary.ok, true);
    assert.equal(summary.collected, 4);
    assert.equal(summary.sent, 2);
    assert.equal(summary.rejected, 2);
    assert.equal(summary.allDelivered, false, "--once exits 1: something needs an operator");
    assert.deepEqual(sink.received.sort(), ["good-1", "good-2"]);
    assert.deepEqual(
      deadLetters.letters.map((letter) => [letter.reason, letter.id]),
      [
        ["invalid_event", "broken"],
        ["invalid_event", "broken-last"],
      ],
    );
    const [letter] = deadLetters.letters;
    assert.ok(letter !== undefined && "trace" in letter);
    assert.deepEqual(letter.trace, { trace_id: "broken", trace_name: 42, time: T0 - 2 * MIN });
    assert.match(letter.error, /^not a valid CTS trace: trace_name/);
    assert.equal(state.checkpoint, summary.window.to);
  });

  test("an invalid entry listed again (the next window's overlap) is not dead-lettered twice", async () => {
    const { clock, cts, deadLetters, cycle } = setup();
    cts.addInvalid("broken", T0 - 2 * MIN);
    assert.equal((await cycle()).rejected, 1);
    clock.advance(MIN);
    const again = await cycle();
    assert.equal(again.ok, true);
    assert.equal(again.rejected, 0);
    assert.equal(again.duplicates, 1, "the overlap listed it again");
    assert.equal(deadLetters.letters.length, 1);
  });

  test("without a dead-letter file, an invalid entry fails the cycle and the checkpoint stays", async () => {
    const { cts, deps, state } = setup();
    cts.add("good-1", T0 - MIN);
    cts.addInvalid("broken", T0 - 2 * MIN);
    const summary = await runCycle({ ...deps, deadLetters: undefined }, state, {
      ...options,
      signal: new AbortController().signal,
    });
    assert.equal(summary.ok, false);
    assert.equal(state.checkpoint, undefined);
    assert.match(summary.error ?? "", /event broken was rejected .*CTS_DEAD_LETTER_FILE is unset/);
  });

  for (const status of [301, 401, 403, 405, 413, 415, 431, 451]) {
    test(`a sink answering ${status} fails the cycle: the checkpoint stays, nothing counts as rejected`, async () => {
      let requests = 0;
      const { cts, state, deadLetters, cycle } = setup(() => {
        requests++;
        return { kind: "response", status, body: "Unauthorized: OIDC token required" };
      });
      cts.add("x1", T0 - 2 * MIN);
      cts.add("x2", T0 - MIN);
      const summary = await cycle();
      assert.equal(summary.ok, false);
      assert.equal(state.checkpoint, undefined);
      assert.equal(summary.rejected, 0);
      assert.equal(deadLetters.letters.length, 0);
      assert.match(summary.error ?? "", new RegExp(`the sink answered ${status}`));
      assert.ok(requests <= 2, `not repeated per request (${requests} requests)`);
      assert.equal(state.seen.has("x1") || state.seen.has("x2"), false, "both are sent again");
    });
  }

  test("a batch answered 400 is split until the bad event stands alone; the other nine are delivered", async () => {
    const { cts, deps, state, deadLetters } = setup();
    const sink = batchTransport((ids) =>
      ids.includes("s7") ? { kind: "response", status: 400, body: "s7 is bad" } : accepted,
    );
    for (let i = 0; i < 10; i++) cts.add(`s${i}`, T0 - MIN + i);
    const summary = await tenPerBatch(deps, state, sink.transport);
    assert.equal(summary.ok, true);
    assert.equal(summary.sent, 9);
    assert.equal(summary.rejected, 1);
    assert.deepEqual(sink.delivered.sort(), ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s8", "s9"]);
    assert.deepEqual(
      deadLetters.letters.map((l) => l.id),
      ["s7"],
    );
    const requests = sink.requests.length;
    assert.ok(requests <= 9, `a binary search, not one request per event (${requests})`);
  });

  test("the limiter propagates a task's failure instead of swallowing it", async () => {
    const limiter = new Limiter(2);
    let slowEnded = false;
    await limiter.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      slowEnded = true;
    });
    await limiter.run(() => Promise.reject(new Error("boom")));
    await assert.rejects(limiter.drain(), /boom/);
    assert.ok(slowEnded, "drain waits for every started task before it reports the failure");
    await assert.rejects(
      limiter.run(() => Promise.resolve()),
      /boom/,
      "no new task after a failure",
    );
    const sync = new Limiter(1);
    await sync.run(() => {
      throw new TypeError("thrown before any await");
    });
    await assert.rejects(sync.drain(), /thrown before any await/);
  });

  test("a transport that throws (an event it cannot encode) fails the cycle; the event is not lost", async () => {
    const { cts, deps, state } = setup();
    let broken = true;
    const throwing: CoreDeps = {
      ...deps,
      transport: {
        mode: "binary",
        attempt: () => {
          if (broken) throw new TypeError("header value cannot be encoded");
          return Promise.resolve(accepted);
        },
      },
    };
    cts.add("enc", T0 - MIN);
    const run = () =>
      runCycle(throwing, state, { ...options, signal: new AbortController().signal });
    const failed = await run();
    assert.equal(failed.ok, false);
    assert.equal(state.checkpoint, undefined);
    assert.match(failed.error ?? "", /cannot be encoded/);
    broken = false;
    const next = await run();
    assert.equal(next.ok, true);
    assert.equal(next.sent, 1, "sent by the next cycle");
  });

  test("a sink's Retry-After is honoured but capped at maxRetryAfterMs", async () => {
    let busy = 2;
    const { cts, deps, state, sink } = setup(() =>
      busy-- > 0 ? { kind: "response", status: 503, retryAfter: "86400", body: "busy" } : accepted,
    );
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => deps.clock.now(),
      sleep: (ms, signal) => {
        sleeps.push(ms);
        return deps.clock.sleep(ms, signal);
      },
    };
    cts.add("ra", T0 - MIN);
    const summary = await runCycle({ ...deps, clock }, state, {
      ...options,
      signal: new AbortController().signal,
    });
    assert.equal(summary.ok, true);
    assert.deepEqual(sink.received, ["ra"]);
    assert.deepEqual(sleeps, [5_000, 5_000], "a day's Retry-After waits the 5 s cap");
  });

  test("a trace CTS lists with a time before the window's from is delivered, and only once", async () => {
    const { deps, state, sink } = setup();
    // CTS filtering on record time: stamped three hours ago, recorded a minute ago.
    const old = {
      trace_id: "early",
      trace_name: "login",
      time: T0 - 3 * 60 * MIN,
      record_time: T0 - MIN,
    };
    const source = {
      origin,
      async *listTraces() {
        await Promise.resolve();
        yield { trace: CtsTrace.parse(old), raw: old };
      },
    };
    const run = () =>
      runCycle({ ...deps, source }, state, { ...options, signal: new AbortController().signal });
    const first = await run();
    assert.equal(first.sent, 1);
    assert.deepEqual(sink.received, ["early"]);
    const second = await run();
    assert.equal(second.sent, 0);
    assert.equal(second.duplicates, 1, "deduplicated by id");
  });

  test("a 3-day backlog is read oldest first in 1-hour sub-windows that commit one by one", async () => {
    const { clock, cts, deps, state } = setup();
    const listed: TimeWindow[] = [];
    let failAfter = 30;
    const source = {
      origin,
      listTraces(window: TimeWindow) {
        listed.push(window);
        if (listed.length > failAfter) throw new Error("CTS answered 500");
        return cts.source.listTraces(window);
      },
    };
    const start = T0 - 3 * 24 * 60 * MIN;
    state.checkpoint = start;
    for (let h = 0; h < 72; h++) cts.add(`h${h}`, start + h * 60 * MIN + 30 * MIN);
    const commits: number[] = [];
    const run = () =>
      runCycle({ ...deps, source }, state, {
        ...options,
        onCommit: (committed) => {
          commits.push(committed.checkpoint ?? 0);
        },
        signal: new AbortController().signal,
      });
    const broken = await run();
    assert.equal(broken.ok, false);
    assert.ok(
      listed.every((w) => w.to - w.from <= 60 * MIN),
      "no listing spans more than an hour",
    );
    assert.ok(
      listed.every((w, i) => i === 0 || w.from === (listed[i - 1]?.to ?? 0) - 1),
      "oldest first, each starting where the last ended (exclusive bounds)",
    );
    assert.equal(commits.length, 30, "each sub-window committed on its own");
    assert.equal(state.checkpoint, listed[29]?.to, "partial progress is kept");
    failAfter = Infinity;
    clock.advance(MIN);
    const rest = await run();
    assert.equal(rest.ok, true);
    assert.equal(state.checkpoint, T0 + MIN);
    assert.equal(broken.sent + rest.sent, 72, "every trace of the backlog, once");
  });

  test("failed cycles back off: the wait doubles with each failure in a row, up to the cap", () => {
    const timing = { intervalMs: 5 * MIN, failureRetryMs: 30_000, failureBackoffMaxMs: 5 * MIN };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => failureDelay(n, timing)),
      [30_000, 60_000, 120_000, 240_000, 300_000, 300_000],
    );
    assert.equal(failureDelay(1, { ...timing, intervalMs: 1_000 }), 1_000);
    assert.equal(failureDelay(9, { ...timing, intervalMs: 1_000 }), 8_000, "at most 8 intervals");
  });
});

describe("the first window before any checkpoint", () => {
  test("failed first cycles keep the first window's start: traces older than CTS_FROM at recovery still arrive", async () => {
    let down = true;
    const { clock, cts, sink, state, cycle } = setup(() =>
      down ? { kind: "network-error", message: "ECONNREFUSED" } : accepted,
    );
    cts.add("early", T0 - 4 * MIN);
    for (let i = 0; i < 4; i++) {
      const summary = await cycle();
      assert.equal(summary.ok, false);
      assert.equal(state.checkpoint, undefined);
      clock.advance(5 * MIN); // 20 minutes down; CTS_FROM is 5
    }
    down = false;
    const recovered = await cycle();
    assert.equal(recovered.ok, true);
    assert.equal(recovered.window.from, T0 - 5 * MIN - 1, "the first window's start held");
    assert.deepEqual(sink.received, ["early"]);
  });
});
