/**
 * `pnpm bench`: the benchmarks of issue 7 (see bench/README.md). Not part of `pnpm test`.
 * Prints a markdown table and writes the raw figures to bench/results/.
 */
import { fileURLToPath } from "node:url";
import { runCli } from "@cts/devkit";
import { parseCli, USAGE } from "./lib/args.js";
import { openBenchNeo4j, type BenchNeo4j } from "./lib/bench-neo4j.js";
import { installSignalHandlers } from "./lib/cleanup.js";
import { createEventSet, type EventSet } from "./lib/event-set.js";
import { loadNow, machineInfo, sourceInfo } from "./lib/machine.js";
import { formatNumber, log } from "./lib/progress.js";
import {
  compare,
  evaluateTargets,
  renderMarkdown,
  writeReport,
  type Report,
  type Results,
} from "./lib/report.js";
import type { BenchContext, BenchPlan, Scenario, ScenarioName } from "./lib/types.js";
import { warmUpNeo4j, WARM_UP_EVENTS } from "./lib/warm-up.js";
import { baseline } from "./scenarios/baseline.js";
import { ceiling } from "./scenarios/ceiling.js";
import { coldStart } from "./scenarios/cold-start.js";
import { exporter, exporterBatch } from "./scenarios/exporter.js";
import { originalSink, peerBatch, peerBinary } from "./scenarios/peer.js";
import { replicas } from "./scenarios/replicas.js";
import { scaling } from "./scenarios/scaling.js";
import { sinkBatch, sinkBinary } from "./scenarios/sink-http.js";
import { tracing } from "./scenarios/tracing.js";

const RESULTS_DIR = fileURLToPath(new URL("results", import.meta.url));

const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  "sink-binary": sinkBinary,
  "sink-batch": sinkBatch,
  baseline,
  ceiling,
  scaling,
  exporter,
  "exporter-batch": exporterBatch,
  original: originalSink,
  "peer-binary": peerBinary,
  "peer-batch": peerBatch,
  "cold-start": coldStart,
  tracing,
  replicas,
};

/** Events the run needs: the throughput scenarios' set, or scaling's growth plus its samples. */
function eventSetSize(plan: BenchPlan, scenarios: readonly ScenarioName[]): number {
  const throughput = plan.events + plan.warmupEvents;
  const largest = Math.max(...plan.scalingSteps);
  const perStep = plan.batchSize + plan.scalingMeasureEvents + 1;
  const growth = scenarios.includes("scaling")
    ? plan.warmupEvents + largest + plan.scalingSteps.length * perStep
    : 0;
  // The peer scenarios take their 500 warm-up events after their measured ones; cold-start 6,000.
  const peers = Math.max(plan.peerEvents + 500, 6_000);
  return Math.max(throughput, growth, peers, WARM_UP_EVENTS);
}

/** The database and the events, created on first use (the exporter needs neither). */
function lazyContext(plan: BenchPlan, scenarios: readonly ScenarioName[]) {
  let db: Promise<BenchNeo4j> | undefined;
  let opened: BenchNeo4j | undefined;
  let events: Promise<EventSet> | undefined;
  const context: BenchContext = {
    plan,
    db: () =>
      (db ??= (async () => {
        opened = await openBenchNeo4j({
          heapSize: process.env["BENCH_NEO4J_HEAP"] ?? "2g",
          pageCacheSize: process.env["BENCH_NEO4J_PAGECACHE"] ?? "1g",
        });
        await warmUpNeo4j(opened, await context.events());
        return opened;
      })()),
    events: () =>
      (events ??= (async () => {
        const size = eventSetSize(plan, scenarios);
        log(`building the event set: ${formatNumber(size)} events`);
        const set = await createEventSet(size);
        if (set.size < size)
          throw new Error(`the simulator produced ${set.size} of ${size} events`);
        return set;
      })()),
  };
  const close = async () => {
    await (await events?.catch(() => undefined))?.close();
    await opened?.close();
  };
  return { context, close, opened: () => opened };
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2), RESULTS_DIR);
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  installSignalHandlers();
  const machine = machineInfo();
  const source = sourceInfo(fileURLToPath(new URL(".", import.meta.url)));
  const startedAt = new Date().toISOString();
  log(
    `pnpm bench: ${cli.scenarios.join(", ")}${cli.plan.quick ? " (quick)" : ""}; ` +
      `${machine.nproc} cores, load ${machine.loadAtStart.join(" ")}`,
  );
  const { context, close, opened } = lazyContext(cli.plan, cli.scenarios);
  const results: Results = {};
  const scenarioLoad: Record<string, { before: number[]; after: number[] }> = {};
  try {
    for (const name of cli.scenarios) {
      log(`== ${name}`);
      const before = loadNow();
      try {
        const result = await SCENARIOS[name](context);
        results[name] = result;
        log(
          `== ${name}: ${formatNumber(result.events)} events in ${result.seconds.toFixed(1)} s = ` +
            `${formatNumber(result.eventsPerSecond)} events/s; ${result.note}`,
        );
      } catch (error) {
        // One broken scenario should not cost the figures of the others.
        log(
          `== ${name} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
      scenarioLoad[name] = { before, after: loadNow() };
    }
    const db = opened();
    const comparisons = compare(results);
    const report: Report = {
      startedAt,
      finishedAt: new Date().toISOString(),
      argv: process.argv.slice(2),
      source,
      plan: cli.plan,
      machine: {
        ...machine,
        neo4j: db?.version,
        neo4jMemory: db?.memory,
        loadAtEnd: loadNow(),
      },
      results,
      comparisons,
      targets: evaluateTargets(results, comparisons),
      scenarioLoad,
    };
    console.log(`\n${renderMarkdown(report)}\n`);
    log(`raw figures: ${writeReport(report, RESULTS_DIR)} (and latest.json)`);
    return Object.keys(results).length === cli.scenarios.length ? 0 : 1;
  } finally {
    await close();
  }
}

runCli("pnpm bench", main);
