import { batchShots, binaryShots } from "../lib/encode.js";
import { postAll, type Shot } from "../lib/http-load.js";
import { formatNumber, log } from "../lib/progress.js";
import { sinkRunDetails, withFreshSink } from "../lib/sink-process.js";
import { round, throughput } from "../lib/stats.js";
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

export function runSinkHttp(context: BenchContext, mode: Mode): Promise<ScenarioResult> {
  const { plan } = context;
  return withFreshSink(context, mode.env, async ({ sink, db, events }) => {
    const boundMs = plan.boundsSeconds[mode.scenario] * 1000;
    const label = mode.scenario;
    // Warm-up events come from beyond the measured range, so the measured ones are all new.
    const warmup = mode.shots(events.slice(plan.events, plan.warmupEvents));
    log(`${label}: warming up with ${formatNumber(plan.warmupEvents)} events`);
    await postAll(warmup, { url: sink.url, concurrency: mode.concurrency, boundMs, label });
    const shots = mode.shots(events.slice(0, plan.events));
    log(`${label}: posting ${formatNumber(plan.events)} events, ${mode.concurrency} connections`);
    const run = await sink.measure(shots, { concurrency: mode.concurrency, boundMs, label });
    const { load, writes } = run;
    const stored = await db.count("Action");
    return {
      scenario: mode.scenario,
      ...throughput(load),
      complete: load.complete,
      note:
        `${mode.concurrency} conns; ${round(writes.eventsPerTransaction)} events/tx, ` +
        `${round(writes.msPerTransaction)} ms/tx, writer busy ${round(writes.writeBusy * 100)}%`,
      details: {
        offered: plan.events,
        ...sinkRunDetails(run, mode.concurrency),
        actionsStored: stored,
        warmupEvents: plan.warmupEvents,
      },
    };
  });
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
