import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, readSpans, startCollector } from "@cts/devkit";
import { onInterrupt } from "../lib/cleanup.js";
import { binaryShots } from "../lib/encode.js";
import { log } from "../lib/progress.js";
import { round } from "../lib/stats.js";
import type { BenchContext, ScenarioResult } from "../lib/types.js";
import { runExporterScenario } from "./exporter.js";
import { runSinkHttp } from "./sink-http.js";

/** The off and on sides of an ABBA series: each the mean rate of its two runs. */
function pairs(runs: readonly ScenarioResult[]): [ScenarioResult, ScenarioResult] {
  const [a1, b1, b2, a2] = runs;
  if (a1 === undefined || b1 === undefined || b2 === undefined || a2 === undefined)
    throw new Error("an ABBA series needs four runs");
  const mean = (x: ScenarioResult, y: ScenarioResult): ScenarioResult => ({
    ...x,
    events: x.events + y.events,
    seconds: x.seconds + y.seconds,
    eventsPerSecond: (x.eventsPerSecond + y.eventsPerSecond) / 2,
    complete: x.complete && y.complete,
    note: `${round(x.eventsPerSecond)} and ${round(y.eventsPerSecond)} ev/s`,
  });
  return [mean(a1, a2), mean(b1, b2)];
}

/** Throughput lost with tracing on, in percent of the throughput with it off. */
const loss = (off: ScenarioResult, on: ScenarioResult) =>
  off.eventsPerSecond === 0 ? 0 : (1 - on.eventsPerSecond / off.eventsPerSecond) * 100;

/**
 * 12. The cost of OpenTelemetry: the sink in binary mode (a server, a queue-wait span per
 * request and a span per transaction) and the exporter in binary mode (a client span and trace
 * context per request), each measured with tracing off (no OTLP endpoint: the SDK is not
 * loaded) and on (OTEL_TRACES_SAMPLER=always_on, spans and metrics sent over OTLP/HTTP to the
 * real OpenTelemetry Collector, which writes them to a file). Off and on run back to back on
 * the same events; the figure is the throughput lost, target at most 10 %.
 */
export async function tracing(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
  const dir = await mkdtemp(join(tmpdir(), "cts-bench-otel-"));
  const collector = await startCollector({ dir, httpPort: await freePort() }, (line) => {
    log(`otelcol: ${line}`);
  });
  const forget = onInterrupt(() => collector.stop());
  const on = {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_TRACES_SAMPLER: "always_on",
  };
  const sinkRun = (env: Record<string, string>) =>
    runSinkHttp(context, {
      scenario: "tracing",
      concurrency: plan.binaryConcurrency,
      shots: binaryShots,
      env,
    });
  const exporterRun = (env: Record<string, string>) =>
    runExporterScenario(context, "binary", { scenario: "tracing", env });
  try {
    // Off, on, on, off (ABBA): on a shared machine the load drifts during a run, and this
    // order gives both sides the same share of it; each side's figure is the mean of its two.
    const sinkRuns: ScenarioResult[] = [];
    for (const [i, env] of [{}, on, on, {}].entries()) {
      log(`tracing: sink run ${i + 1} of 4, tracing ${env === on ? "on (always_on)" : "off"}`);
      sinkRuns.push(await sinkRun(env));
    }
    const exporterRuns: ScenarioResult[] = [];
    for (const [i, env] of [{}, on, on, {}].entries()) {
      log(`tracing: exporter run ${i + 1} of 4, tracing ${env === on ? "on (always_on)" : "off"}`);
      exporterRuns.push(await exporterRun(env));
    }
    const [sinkOff, sinkOn] = pairs(sinkRuns);
    const [exporterOff, exporterOn] = pairs(exporterRuns);
    const spans = readSpans(collector.tracesFile).length;
    const sinkLoss = loss(sinkOff, sinkOn);
    const exporterLoss = loss(exporterOff, exporterOn);
    const figures = (result: ScenarioResult) => ({
      events: result.events,
      seconds: round(result.seconds, 2),
      eventsPerSecond: round(result.eventsPerSecond),
      complete: result.complete,
      p50Ms: result.p50Ms ?? null,
      p99Ms: result.p99Ms ?? null,
      note: result.note,
    });
    return {
      scenario: "tracing",
      events: sinkOn.events + exporterOn.events,
      seconds: sinkOn.seconds + exporterOn.seconds,
      eventsPerSecond: sinkOn.eventsPerSecond,
      complete: [sinkOff, sinkOn, exporterOff, exporterOn].every((result) => result.complete),
      note:
        `sink binary ${round(sinkOff.eventsPerSecond)} → ${round(sinkOn.eventsPerSecond)} ev/s ` +
        `(${round(sinkLoss, 1)} % lost); exporter ${round(exporterOff.eventsPerSecond)} → ` +
        `${round(exporterOn.eventsPerSecond)} ev/s (${round(exporterLoss, 1)} % lost); ` +
        `${spans} spans received`,
      details: {
        target: "at most 10 % throughput lost with always_on",
        sinkLossPercent: round(sinkLoss, 1),
        exporterLossPercent: round(exporterLoss, 1),
        order: "off, on, on, off for each service; each side is the mean rate of its two runs",
        sink: { off: figures(sinkOff), on: figures(sinkOn), runs: sinkRuns.map(figures) },
        exporter: {
          off: figures(exporterOff),
          on: figures(exporterOn),
          runs: exporterRuns.map(figures),
        },
        spansReceived: spans,
      },
    };
  } finally {
    await collector.stop();
    forget();
    await rm(dir, { recursive: true, force: true });
  }
}
