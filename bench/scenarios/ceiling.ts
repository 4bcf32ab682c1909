import type { BenchNeo4j } from "../lib/bench-neo4j.js";
import { cpuMsPerEvent, meterCpu } from "../lib/cpu.js";
import { graphRows } from "../lib/encode.js";
import type { EventSet } from "../lib/event-set.js";
import { formatNumber, log, progress } from "../lib/progress.js";
import { writeBatch, writeBatches } from "../lib/sink-writes.js";
import { rate, round } from "../lib/stats.js";
import type { BenchContext, BenchPlan, ScenarioResult } from "../lib/types.js";

interface CeilingRun {
  readonly batchSize: number;
  readonly events: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  readonly msPerTransaction: number;
  readonly cpuCores: Record<string, number>;
  readonly neo4jCpuMsPerEvent: number | undefined;
}

/** One batch size on a fresh database: warm-up, then the measured events, one tx at a time. */
async function writeAtSize(
  db: BenchNeo4j,
  events: EventSet,
  options: { readonly plan: BenchPlan; readonly size: number; readonly boundMs: number },
): Promise<CeilingRun> {
  const { plan, size } = options;
  await db.reset();
  await db.createSinkSchema();
  const warmup = writeBatches(graphRows(events.slice(plan.events, plan.warmupEvents)), size);
  for (const batch of warmup) await writeBatch(db.driver, batch);
  const batches = writeBatches(graphRows(events.slice(0, plan.events)), size);
  const meter = progress(`ceiling @ ${formatNumber(size)}/tx`);
  const cpu = meterCpu({ neo4j: db.pid, client: process.pid });
  const started = performance.now();
  const deadline = started + options.boundMs;
  let done = 0;
  let transactions = 0;
  for (const batch of batches) {
    if (performance.now() > deadline) break;
    await writeBatch(db.driver, batch);
    done += batch.actions.length;
    transactions++;
    meter.tick(done, plan.events);
  }
  const elapsedMs = performance.now() - started;
  const cores = cpu.stop();
  return {
    batchSize: size,
    events: done,
    elapsedMs,
    eventsPerSecond: rate(done, elapsedMs),
    msPerTransaction: elapsedMs / Math.max(1, transactions),
    cpuCores: cores,
    neo4jCpuMsPerEvent: cpuMsPerEvent(cores["neo4j"], elapsedMs, done),
  };
}

/**
 * 4. Ceiling: the sink's own UNWIND statements (writeStatements + runInOneTransaction) run
 * straight from neo4j-driver, one transaction at a time, with the rows parsed, mapped and
 * grouped before the clock starts: what Neo4j itself manages on this machine for the sink's
 * graph, with no HTTP, parsing or batching in the way. Run at each of `ceilingBatchSizes` on a
 * fresh database; the best is the ceiling.
 */
export async function ceiling(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
  const [db, events] = [await context.db(), await context.events()];
  const sizes = plan.ceilingBatchSizes;
  const boundMs = (plan.boundsSeconds.ceiling * 1000) / sizes.length;
  const runs: CeilingRun[] = [];
  for (const size of sizes) {
    log(`ceiling: ${formatNumber(plan.events)} events in transactions of ${formatNumber(size)}`);
    runs.push(await writeAtSize(db, events, { plan, size, boundMs }));
  }
  const best = runs.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));
  return {
    scenario: "ceiling",
    events: best.events,
    seconds: best.elapsedMs / 1000,
    eventsPerSecond: best.eventsPerSecond,
    complete: best.events === plan.events,
    note:
      `best of ${runs.map((r) => `${formatNumber(r.batchSize)}/tx: ${formatNumber(r.eventsPerSecond)}/s`).join(", ")}; ` +
      `${round(best.msPerTransaction)} ms/tx, no HTTP`,
    details: {
      offered: plan.events,
      batchSize: best.batchSize,
      runs,
      cpuCores: best.cpuCores,
      neo4jCpuMsPerEvent: best.neo4jCpuMsPerEvent,
      actionsStored: await db.count("Action"),
      warmupEvents: plan.warmupEvents,
    },
  };
}
