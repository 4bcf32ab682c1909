import { cpuMsPerEvent, meterCpu } from "../lib/cpu.js";
import { batchShots, binaryShots } from "../lib/encode.js";
import { postAll, type Shot } from "../lib/http-load.js";
import { formatNumber, log } from "../lib/progress.js";
import { startSinkProcess, writeDelta } from "../lib/sink-process.js";
import { percentile, rate, round } from "../lib/stats.js";
import type { BenchContext, ScenarioName, ScenarioResult } from "../lib/types.js";
import type { BenchEvent } from "../lib/event-set.js";

/** Batches of 500 events of this set reach 1.2 MB when large ECS user_data traces cluster. */
export const BATCH_BODY_LIMIT = String(16 * 1024 * 1024);

export interface Mode {
  readonly scenario: ScenarioName;
  readonly concurrency: number;
  readonly shots: (events: readonly BenchEvent[]) => Shot[];
  readonly env: Readonly<Record<string, string>>;
}

export async function runSinkHttp(context: BenchContext, mode: Mode): Promise<ScenarioResult> {
  const { plan } = context;
  const [db, events] = [await context.db(), await context.events()];
  await db.reset();
  const sink = await startSinkProcess(db, {
    env: mode.env,
    ...(plan.cpuProfileDir === undefined ? {} : { cpuProfileDir: plan.cpuProfileDir }),
  });
  try {
    const boundMs = plan.boundsSeconds[mode.scenario] * 1000;
    const label = mode.scenario;
    // Warm-up events come from beyond the measured range, so the measured ones are all new.
    const warmup = mode.shots(events.slice(plan.events, plan.warmupEvents));
    log(`${label}: warming up with ${formatNumber(plan.warmupEvents)} events`);
    await postAll(warmup, { url: sink.url, concurrency: mode.concurrency, boundMs, label });
    const shots = mode.shots(events.slice(0, plan.events));
    log(`${label}: posting ${formatNumber(plan.events)} events, ${mode.concurrency} connections`);
    const before = await sink.writeStats();
    const cpu = meterCpu({ neo4j: db.pid, sink: sink.pid, client: process.pid });
    const load = await postAll(shots, {
      url: sink.url,
      concurrency: mode.concurrency,
      boundMs,
      label,
    });
    const cores = cpu.stop();
    const writes = writeDelta(before, await sink.writeStats(), load.elapsedMs);
    const stored = await db.count("Action");
    const eventsPerSecond = rate(load.events, load.elapsedMs);
    return {
      scenario: mode.scenario,
      events: load.events,
      seconds: load.elapsedMs / 1000,
      eventsPerSecond,
      ...optional("p50Ms", percentile(load.latenciesMs, 50)),
      ...optional("p99Ms", percentile(load.latenciesMs, 99)),
      complete: load.complete,
      note:
        `${mode.concurrency} conns; ${round(writes.eventsPerTransaction)} events/tx, ` +
        `${round(writes.msPerTransaction)} ms/tx, writer busy ${round(writes.writeBusy * 100)}%`,
      details: {
        offered: plan.events,
        requests: load.requests,
        failures: load.failures,
        concurrency: mode.concurrency,
        sinkWrites: writes,
        cpuCores: cores,
        neo4jCpuMsPerEvent: cpuMsPerEvent(cores["neo4j"], load.elapsedMs, load.events),
        actionsStored: stored,
        warmupEvents: plan.warmupEvents,
      },
    };
  } finally {
    await sink.stop();
  }
}

/** Spreads `{ [key]: value }` only when there is a value (exactOptionalPropertyTypes). */
export function optional<K extends string>(
  key: K,
  value: number | undefined,
): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** 1. The sink in binary mode: one event per request, 32 concurrent connections. */
export function sinkBinary(context: BenchContext): Promise<ScenarioResult> {
  return runSinkHttp(context, {
    scenario: "sink-binary",
    concurrency: context.plan.binaryConcurrency,
    shots: binaryShots,
    env: {},
  });
}

/** 2. The sink in batch mode: the same events, `batchSize` per request. */
export function sinkBatch(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
  return runSinkHttp(context, {
    scenario: "sink-batch",
    concurrency: plan.batchConcurrency,
    shots: (events) => batchShots(events, plan.batchSize),
    env: { SINK_MAX_BODY_BYTES: BATCH_BODY_LIMIT },
  });
}
