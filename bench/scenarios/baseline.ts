import type { Driver } from "neo4j-driver";
import { cpuMsPerEvent, meterCpu } from "../lib/cpu.js";
import { originalParams, writeLikeOriginal, type OriginalParams } from "../lib/original-pattern.js";
import { formatNumber, log, progress } from "../lib/progress.js";
import { throughput } from "../lib/stats.js";
import type { BenchContext, ScenarioResult } from "../lib/types.js";

/** Events written the original's way, in order, one transaction each, until the bound. */
interface OriginalRun {
  readonly events: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
}

export async function runLikeOriginal(
  driver: Driver,
  params: readonly OriginalParams[],
  bound: { readonly ms: number; readonly label: string },
): Promise<OriginalRun> {
  const meter = progress(bound.label);
  const latenciesMs: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + bound.ms;
  // Sequential, as the Go sink's single goroutine drained its channel.
  for (const event of params) {
    if (performance.now() > deadline) break;
    const sent = performance.now();
    try {
      await writeLikeOriginal(driver, event);
      latenciesMs.push(performance.now() - sent);
    } catch {
      // The original logged a failed write and went on with the next event.
      errors++;
    }
    meter.tick(latenciesMs.length, params.length);
  }
  return {
    events: latenciesMs.length,
    errors,
    elapsedMs: performance.now() - started,
    latenciesMs,
  };
}

const BASELINE_WARMUP = 100;

/**
 * 3. Baseline: the same events, on a fresh database without constraints or indexes, written
 * the way the original Go sink wrote them (one session and one write transaction per event).
 */
export async function baseline(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
  const [db, events] = [await context.db(), await context.events()];
  await db.reset();
  const boundMs = plan.boundsSeconds.baseline * 1000;
  const warmup = events.slice(plan.events, Math.min(BASELINE_WARMUP, plan.warmupEvents));
  await runLikeOriginal(db.driver, warmup.map(originalParams), {
    ms: boundMs,
    label: "baseline warm-up",
  });
  log(
    `baseline: ${formatNumber(plan.events)} events the original's way (bound ${plan.boundsSeconds.baseline} s)`,
  );
  const params = events.slice(0, plan.events).map(originalParams);
  const cpu = meterCpu({ neo4j: db.pid, client: process.pid });
  const run = await runLikeOriginal(db.driver, params, { ms: boundMs, label: "baseline" });
  const cores = cpu.stop();
  return {
    scenario: "baseline",
    ...throughput(run),
    complete: run.events === plan.events,
    note: `1 tx/event, no index; ${run.errors} errors`,
    details: {
      offered: plan.events,
      errors: run.errors,
      cpuCores: cores,
      neo4jCpuMsPerEvent: cpuMsPerEvent(cores["neo4j"], run.elapsedMs, run.events),
      actions: await db.count("ACTION"),
      warmupEvents: warmup.length,
    },
  };
}
