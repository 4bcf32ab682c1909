import { binaryShots } from "../lib/encode.js";
import { postAll } from "../lib/http-load.js";
import { formatNumber, log } from "../lib/progress.js";
import { startSinkProcess, writeDelta } from "../lib/sink-process.js";
import { percentile, rate, ratio, round, throughput } from "../lib/stats.js";
import type { BenchContext, ScenarioResult } from "../lib/types.js";

/** Events of the cold phase: what a new pod meets first. */
const COLD_EVENTS = 1_000;
/** Events after them, on the same sink and database, for the warm rate. */
const WARM_EVENTS = 5_000;

/**
 * A new pod: a fresh database (no data, no schema: the sink creates it) and a fresh sink
 * process, then its first 1,000 binary-mode events over `peerConcurrency` connections, timed
 * from the first request; then the next 5,000 on the same sink for the warm rate. The sink's
 * start (schema, readiness) is reported apart and not counted.
 */
export async function coldStart(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
  const [db, events] = [await context.db(), await context.events()];
  await db.reset();
  const launched = performance.now();
  const sink = await startSinkProcess(db, { cpuProfileDir: plan.cpuProfileDir });
  const startupMs = performance.now() - launched;
  try {
    const boundMs = plan.boundsSeconds["cold-start"] * 1000;
    const load = { url: sink.url, concurrency: plan.peerConcurrency, boundMs };
    log(
      `cold-start: sink ready in ${round(startupMs / 1000, 1)} s; first ${formatNumber(COLD_EVENTS)} events`,
    );
    const coldStats = await sink.writeStats();
    const cold = await postAll(binaryShots(events.slice(0, COLD_EVENTS)), {
      ...load,
      label: "cold-start (cold)",
    });
    const warmStats = await sink.writeStats();
    const warm = await postAll(binaryShots(events.slice(COLD_EVENTS, WARM_EVENTS)), {
      ...load,
      label: "cold-start (warm)",
    });
    const coldWrites = writeDelta(coldStats, warmStats, cold.elapsedMs);
    const warmWrites = writeDelta(warmStats, await sink.writeStats(), warm.elapsedMs);
    const coldRate = rate(cold.events, cold.elapsedMs);
    const warmRate = rate(warm.events, warm.elapsedMs);
    const slowdown = ratio(warmRate, coldRate);
    const firstMs = cold.latenciesMs[0];
    return {
      scenario: "cold-start",
      ...throughput(cold),
      complete: cold.complete && warm.complete,
      note:
        `binary, ${load.concurrency} conns; warm ${formatNumber(warmRate)} events/s = ` +
        `${round(slowdown ?? 0, 2)}x the first ${formatNumber(COLD_EVENTS)}; ` +
        `first 202 after ${round(firstMs ?? 0)} ms; sink start ${round(startupMs / 1000, 1)} s`,
      details: {
        startupSeconds: startupMs / 1000,
        firstAckMs: firstMs,
        cold: { events: cold.events, seconds: cold.elapsedMs / 1000, writes: coldWrites },
        warm: {
          events: warm.events,
          seconds: warm.elapsedMs / 1000,
          eventsPerSecond: warmRate,
          writes: warmWrites,
          p50Ms: percentile(warm.latenciesMs, 50),
          p99Ms: percentile(warm.latenciesMs, 99),
        },
        warmOverCold: slowdown,
        failures: { cold: cold.failures, warm: warm.failures },
        concurrency: load.concurrency,
      },
    };
  } finally {
    await sink.stop();
  }
}
