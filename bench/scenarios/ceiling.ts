import { cpuMsPerEvent, meterCpu } from "../lib/cpu.js";
import { graphRows } from "../lib/encode.js";
import { formatNumber, log, progress } from "../lib/progress.js";
import { writeBatch, writeBatches } from "../lib/sink-writes.js";
import { rate, round } from "../lib/stats.js";
import type { BenchContext, ScenarioResult } from "../lib/types.js";

/**
 * 4. Ceiling: the sink's own UNWIND statements (writeStatements + runInOneTransaction) run
 * straight from neo4j-driver in large batches, one transaction at a time, with the rows
 * parsed, mapped and grouped before the clock starts: what Neo4j itself manages on this
 * machine for the sink's graph, with no HTTP, parsing or batching cost in the way.
 */
export async function ceiling(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
  const [db, events] = [await context.db(), await context.events()];
  await db.reset();
  await db.createSinkSchema();
  const size = plan.ceilingBatchSize;
  const warmup = writeBatches(graphRows(events.slice(plan.events, plan.warmupEvents)), size);
  for (const batch of warmup) await writeBatch(db.driver, batch);
  log(`ceiling: preparing ${formatNumber(plan.events)} events in batches of ${formatNumber(size)}`);
  const batches = writeBatches(graphRows(events.slice(0, plan.events)), size);
  const meter = progress("ceiling");
  const cpu = meterCpu({ neo4j: db.pid, client: process.pid });
  const started = performance.now();
  const deadline = started + plan.boundsSeconds.ceiling * 1000;
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
    scenario: "ceiling",
    events: done,
    seconds: elapsedMs / 1000,
    eventsPerSecond: rate(done, elapsedMs),
    complete: done === plan.events,
    note: `${formatNumber(size)} events/tx, ${round(elapsedMs / Math.max(1, transactions))} ms/tx, no HTTP`,
    details: {
      offered: plan.events,
      batchSize: size,
      transactions,
      cpuCores: cores,
      neo4jCpuMsPerEvent: cpuMsPerEvent(cores["neo4j"], elapsedMs, done),
      actionsStored: await db.count("Action"),
      warmupEvents: plan.warmupEvents,
    },
  };
}
