import { setTimeout as sleep } from "node:timers/promises";
import { cpuMsPerEvent, meterCpu } from "../lib/cpu.js";
import { batchShots, binaryShots } from "../lib/encode.js";
import { postAll, type Shot } from "../lib/http-load.js";
import { buildOriginalSink, ORIGINAL_PORT, startOriginalSink } from "../lib/original-sink.js";
import { formatNumber, log } from "../lib/progress.js";
import { sinkRunDetails, withFreshSink } from "../lib/sink-process.js";
import { rate, round, throughput } from "../lib/stats.js";
import type { BenchContext, ScenarioName, ScenarioResult } from "../lib/types.js";
import type { BenchNeo4j } from "../lib/bench-neo4j.js";
import type { BenchEvent, EventSet } from "../lib/event-set.js";
import { BATCH_BODY_LIMIT } from "./sink-http.js";

/** Events each side gets, unmeasured, before its measured events: the same ones for both. */
const PEER_WARMUP = 500;
/** Pause between two counts of the original's actions while waiting for its graph. */
const POLL_MS = 10;

/** The measured events and the warm-up events (from beyond the measured range). */
function peerEvents(context: BenchContext, events: EventSet) {
  const { plan } = context;
  return {
    measured: events.slice(0, plan.peerEvents),
    warmup: events.slice(plan.peerEvents, PEER_WARMUP),
  };
}

/**
 * Waits until the original's graph has `count` ACTION nodes (its labels are upper case); returns when, or undefined if `deadline` (a
 * performance.now() time) passed first.
 */
async function waitForActions(
  db: BenchNeo4j,
  count: number,
  deadline: number,
): Promise<number | undefined> {
  for (;;) {
    if ((await db.count("ACTION")) >= count) return performance.now();
    if (performance.now() > deadline) return undefined;
    await sleep(POLL_MS);
  }
}

/**
 * The original Go sink (akyriako/cloudtrace-exporter `cmd/neo4j_sink`, built from its pinned
 * commit and run unmodified) on a fresh database, binary mode, its only mode. It answers each
 * request as soon as its single writer goroutine takes the event, before writing it, so the
 * figure is graph-complete time: from the first request until all its ACTION nodes exist.
 */
export async function originalSink(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
  const build = await buildOriginalSink(plan.originalSrc);
  const [db, events] = [await context.db(), await context.events()];
  const { measured, warmup } = peerEvents(context, events);
  await db.reset();
  const sink = await startOriginalSink(build, db);
  try {
    const boundMs = plan.boundsSeconds.original * 1000;
    const accepted = (status: number) => status >= 200 && status < 300;
    const load = { url: sink.url, concurrency: plan.peerConcurrency, accepted };
    log(`original: warming up with ${formatNumber(warmup.length)} events`);
    await postAll(binaryShots(warmup), { ...load, boundMs, label: "original warm-up" });
    const warmed = await waitForActions(db, warmup.length, performance.now() + boundMs);
    if (warmed === undefined) throw new Error("the original did not store its warm-up events");
    log(
      `original: posting ${formatNumber(measured.length)} events, ${load.concurrency} connections`,
    );
    const cpu = meterCpu({ neo4j: db.pid, sink: sink.pid, client: process.pid });
    const started = performance.now();
    const sent = await postAll(binaryShots(measured), { ...load, boundMs, label: "original" });
    const target = warmup.length + measured.length;
    const done = await waitForActions(db, target, started + boundMs);
    const elapsedMs = (done ?? performance.now()) - started;
    const cores = cpu.stop();
    const stored = (await db.count("ACTION")) - warmup.length;
    return {
      scenario: "original",
      // Graph-complete time over the events stored; the latencies are the acknowledgements'.
      ...throughput({ events: stored, elapsedMs, latenciesMs: sent.latenciesMs }),
      complete: done !== undefined,
      note:
        `Go original ${build.commit.slice(0, 7)}, binary (its only mode), ${load.concurrency} conns, ` +
        `graph-complete; acks at ${formatNumber(rate(sent.events, sent.elapsedMs))} events/s`,
      details: {
        offered: measured.length,
        commit: build.commit,
        goVersion: build.goVersion,
        port: ORIGINAL_PORT,
        acknowledged: sent.events,
        ackSeconds: sent.elapsedMs / 1000,
        failures: sent.failures,
        concurrency: load.concurrency,
        cpuCores: cores,
        neo4jCpuMsPerEvent: cpuMsPerEvent(cores["neo4j"], elapsedMs, stored),
        warmupEvents: warmup.length,
        // A failed write is only logged by the original; count them from its log.
        writeErrors: sink
          .output()
          .split("\n")
          .filter((l) => l.includes("processing event failed")).length,
      },
    };
  } finally {
    await sink.stop();
  }
}

interface PeerMode {
  readonly scenario: ScenarioName;
  readonly shots: (events: readonly BenchEvent[]) => Shot[];
  readonly env: Readonly<Record<string, string>>;
  readonly mode: string;
}

/** Ours under the original's conditions: fresh database and sink, same events and connections. */
function runPeer(context: BenchContext, mode: PeerMode): Promise<ScenarioResult> {
  const { plan } = context;
  return withFreshSink(context, mode.env, async ({ sink, db, events }) => {
    const { measured, warmup } = peerEvents(context, events);
    const boundMs = plan.boundsSeconds[mode.scenario] * 1000;
    const load = { concurrency: plan.peerConcurrency, boundMs };
    await postAll(mode.shots(warmup), {
      ...load,
      url: sink.url,
      label: `${mode.scenario} warm-up`,
    });
    // The sink answers 202 only after the commit: the last 202 is graph-complete time.
    const run = await sink.measure(mode.shots(measured), { ...load, label: mode.scenario });
    const { load: sent, writes } = run;
    const stored = (await db.count("Action")) - warmup.length;
    return {
      scenario: mode.scenario,
      ...throughput(sent),
      complete: sent.complete && stored === measured.length,
      note:
        `${mode.mode}, ${load.concurrency} conns, graph-complete; ` +
        `${round(writes.eventsPerTransaction)} events/tx, ${round(writes.msPerTransaction)} ms/tx`,
      details: {
        offered: measured.length,
        actionsStored: stored,
        ...sinkRunDetails(run, load.concurrency),
        warmupEvents: warmup.length,
      },
    };
  });
}

/** Ours in binary mode beside the original. */
export function peerBinary(context: BenchContext): Promise<ScenarioResult> {
  return runPeer(context, {
    scenario: "peer-binary",
    shots: binaryShots,
    env: {},
    mode: "binary",
  });
}

/** Ours in batch mode beside the original (which has no batch mode). */
export function peerBatch(context: BenchContext): Promise<ScenarioResult> {
  const size = context.plan.batchSize;
  return runPeer(context, {
    scenario: "peer-batch",
    shots: (events) => batchShots(events, size),
    env: { SINK_MAX_BODY_BYTES: BATCH_BODY_LIMIT },
    mode: `batch of ${size}`,
  });
}
