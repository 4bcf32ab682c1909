import { buildWriteBatch, writeStatements } from "@cts/neo4j_sink";
import type { BenchNeo4j } from "../lib/bench-neo4j.js";
import { cpuMsPerEvent, meterCpu } from "../lib/cpu.js";
import { batchShots, graphRows } from "../lib/encode.js";
import type { EventSet } from "../lib/event-set.js";
import { postAll } from "../lib/http-load.js";
import { growOriginalGraph } from "../lib/original-growth.js";
import { ORIGINAL_EVENT_QUERY, originalParams } from "../lib/original-pattern.js";
import { profileStatements, type ProfileSummary } from "../lib/profile.js";
import { formatNumber, log } from "../lib/progress.js";
import { startSinkProcess } from "../lib/sink-process.js";
import { growWithSinkWrites } from "../lib/sink-writes.js";
import { optional, ratio, round, throughput } from "../lib/stats.js";
import type { BenchContext, BenchPlan, ScenarioResult } from "../lib/types.js";
import { runLikeOriginal } from "./baseline.js";
import { BATCH_BODY_LIMIT } from "./sink-http.js";

/** One measurement at one graph size. */
interface ScalingStep {
  /** The step's target and the Action (ACTION) nodes present when measuring began. */
  readonly target: number;
  readonly actions: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** PROFILE of one sink batch (or one original event), divided per event. */
  readonly dbHitsPerEvent: number;
  readonly planWarnings: string[];
  /** Where the database hits went (PROFILE's costliest operators). */
  readonly planTop: ProfileSummary["top"];
  /** Cores used while measuring, per process, and by the rest of the machine (`others`). */
  readonly cpuCores: Readonly<Record<string, number>>;
  /**
   * Neo4j CPU milliseconds per event: unlike events/s, hardly moved by colleagues' load, so it
   * shows whether the per-event cost stays flat.
   */
  readonly neo4jCpuMsPerEvent: number | undefined;
  readonly storeMiB: number | undefined;
  readonly extra?: Readonly<Record<string, unknown>>;
}

interface Side {
  readonly steps: ScalingStep[];
  readonly stoppedEarly: string | undefined;
}

const GROW_BATCH = 5_000;

/** Ours: grow with the sink's write path, measure the running sink in batch mode over HTTP. */
async function scaleOurs(db: BenchNeo4j, events: EventSet, plan: BenchPlan): Promise<Side> {
  const deadline = performance.now() + plan.scalingTotalSeconds * 1000;
  await db.reset();
  const sink = await startSinkProcess(db, { env: { SINK_MAX_BODY_BYTES: BATCH_BODY_LIMIT } });
  const steps: ScalingStep[] = [];
  const boundMs = plan.boundsSeconds.scaling * 1000;
  const post = { url: sink.url, concurrency: plan.batchConcurrency, boundMs };
  try {
    let cursor = plan.warmupEvents;
    await postAll(batchShots(events.slice(0, cursor), plan.batchSize), {
      ...post,
      label: "warm-up",
    });
    for (const target of plan.scalingSteps) {
      if (performance.now() > deadline)
        return { steps, stoppedEarly: `time bound before ${target}` };
      const missing = target - (await db.count("Action"));
      if (missing > 0) {
        log(`scaling (ours): growing to ${formatNumber(target)} actions`);
        await growWithSinkWrites(db.driver, { events, start: cursor, count: missing }, GROW_BATCH);
        cursor += missing;
      }
      const actions = await db.count("Action");
      const sample = buildWriteBatch(graphRows(events.slice(cursor, plan.batchSize)));
      cursor += plan.batchSize;
      const profile = await profileStatements(db.driver, writeStatements(sample));
      log(`scaling (ours): measuring at ${formatNumber(actions)} actions`);
      const shots = batchShots(events.slice(cursor, plan.scalingMeasureEvents), plan.batchSize);
      cursor += plan.scalingMeasureEvents;
      const label = `ours @ ${formatNumber(actions)}`;
      const { load, writes, cores } = await sink.measure(shots, { ...post, label });
      steps.push({
        target,
        actions,
        ...throughput(load),
        dbHitsPerEvent: profile.dbHits / sample.actions.length,
        planWarnings: profile.warnings,
        planTop: profile.top,
        cpuCores: cores,
        neo4jCpuMsPerEvent: cpuMsPerEvent(cores["neo4j"], load.elapsedMs, load.events),
        storeMiB: db.storeMiB(),
        extra: { sinkWrites: writes, failures: load.failures },
      });
    }
    return { steps, stoppedEarly: undefined };
  } finally {
    await sink.stop();
  }
}

/** The original: grow its graph in bulk, measure its one-transaction-per-event pattern. */
async function scaleOriginal(db: BenchNeo4j, events: EventSet, plan: BenchPlan): Promise<Side> {
  const deadline = performance.now() + plan.scalingTotalSeconds * 1000;
  await db.reset();
  const steps: ScalingStep[] = [];
  let cursor = 0;
  for (const target of plan.scalingSteps) {
    if (performance.now() > deadline) return { steps, stoppedEarly: `time bound before ${target}` };
    const missing = target - (await db.count("ACTION"));
    if (missing > 0) {
      log(`scaling (original): growing its graph to ${formatNumber(target)} actions`);
      const range = { events, start: cursor, count: missing };
      if (!(await growOriginalGraph(db.driver, range, deadline))) {
        return { steps, stoppedEarly: `time bound while growing to ${target}` };
      }
      cursor += missing;
    }
    const actions = await db.count("ACTION");
    const [probe] = events.slice(cursor, 1).map(originalParams);
    cursor += 1;
    const profile =
      probe === undefined
        ? { dbHits: 0, warnings: [], top: [] }
        : await profileStatements(db.driver, [{ text: ORIGINAL_EVENT_QUERY, parameters: probe }]);
    log(`scaling (original): measuring at ${formatNumber(actions)} actions`);
    const params = events.slice(cursor, plan.scalingMeasureEvents).map(originalParams);
    const cpu = meterCpu({ neo4j: db.pid, client: process.pid });
    const run = await runLikeOriginal(db.driver, params, {
      ms: plan.boundsSeconds.scaling * 1000,
      label: `original @ ${formatNumber(actions)}`,
    });
    const cores = cpu.stop();
    cursor += params.length;
    steps.push({
      target,
      actions,
      ...throughput(run),
      dbHitsPerEvent: profile.dbHits,
      planWarnings: profile.warnings,
      planTop: profile.top,
      cpuCores: cores,
      neo4jCpuMsPerEvent: cpuMsPerEvent(cores["neo4j"], run.elapsedMs, run.events),
      storeMiB: db.storeMiB(),
      extra: { errors: run.errors },
    });
  }
  return { steps, stoppedEarly: undefined };
}

const lastOverFirst = (steps: readonly ScalingStep[]) =>
  steps.length < 2 ? undefined : ratio(steps.at(-1)?.eventsPerSecond, steps[0]?.eventsPerSecond);

/**
 * 5. Scaling: the sink's throughput (batch mode over HTTP) at each graph size, the graph grown
 * between measurements through the ceiling path; then the same for the original's pattern on
 * a fresh database, as far as its time bound allows. Reports last step / first step for both.
 */
export async function scaling(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
  const [db, events] = [await context.db(), await context.events()];
  const ours = await scaleOurs(db, events, plan);
  const original = await scaleOriginal(db, events, plan);
  const oursRatio = lastOverFirst(ours.steps);
  const originalRatio = lastOverFirst(original.steps);
  const last = ours.steps.at(-1);
  const fmt = (value: number | undefined) =>
    value === undefined ? "n/a" : String(round(value, 2));
  return {
    scenario: "scaling",
    events: ours.steps.reduce((sum, step) => sum + step.events, 0),
    seconds: ours.steps.reduce((sum, step) => sum + step.seconds, 0),
    eventsPerSecond: last?.eventsPerSecond ?? 0,
    ...optional("p50Ms", last?.p50Ms),
    ...optional("p99Ms", last?.p99Ms),
    complete: ours.stoppedEarly === undefined && ours.steps.length === plan.scalingSteps.length,
    note:
      `last/first: ours ${fmt(oursRatio)} (${ours.steps.map((s) => formatNumber(s.eventsPerSecond)).join(" → ")}/s), ` +
      `original ${fmt(originalRatio)} (${original.steps.map((s) => formatNumber(s.eventsPerSecond)).join(" → ")}/s)`,
    details: {
      steps: plan.scalingSteps,
      ours: ours.steps,
      oursStoppedEarly: ours.stoppedEarly ?? null,
      oursRatio: oursRatio ?? null,
      original: original.steps,
      originalStoppedEarly: original.stoppedEarly ?? null,
      originalRatio: originalRatio ?? null,
    },
  };
}
