import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_ORIGINAL_SRC, ORIGINAL_COMMIT } from "./original-sink.js";
import { SCENARIO_NAMES, type BenchPlan, type ScenarioName } from "./types.js";

export const USAGE = `pnpm bench [options]

  --scenarios a,b,c     run only these (${SCENARIO_NAMES.join(", ")}); default all
  --quick               small counts and bounds: a smoke run of a few minutes
  --events N            events per throughput scenario (default 50000; quick 10000)
  --bounds name=S,...   time bound in seconds per scenario (scaling: per measured step)
  --scaling-steps a,b   graph sizes (actions) at which scaling measures (default 10000,100000,500000)
  --binary-concurrency N binary-mode connections (default 32)
  --batch-concurrency N batch-mode requests in flight (default 8: two full sink transactions)
  --ceiling-batch a,b   transaction sizes the ceiling is measured at, best counts (1000,2000,5000)
  --exporter-traces N   traces the simulator serves to the exporter (default 200000)
  --exporter-tsx        run the exporter's sources through tsx; by default it is compiled first
                        and run as \`pnpm start:exporter\` and the image run it (node dist/main.js)
  --peer-events N        events of the original and of ours beside it (default 5000)
  --peer-concurrency N   connections of those and of cold-start (default 16)
  --original-src DIR     clone of akyriako/cloudtrace-exporter to build the original sink from
                        (default $ORIGINAL_SRC, else ${DEFAULT_ORIGINAL_SRC}); commit ${ORIGINAL_COMMIT.slice(0, 7)} only
  --sink-cpu-prof       write V8 CPU profiles of the sink to bench/results/profiles/
  -h, --help

The original sink is built with the installed Go into bench/.cache and listens on :8080.
Environment: NEO4J_URI + NEO4J_PASSWORD (+ NEO4J_USER) use that server; ALL ITS DATA IS DELETED.
Otherwise a Neo4j is started for the run (BENCH_NEO4J_HEAP, default 2g; BENCH_NEO4J_PAGECACHE,
default 1g). SINK_* variables are passed to the sink, SINK_BATCH_SIZE and SINK_CONCURRENCY
also to the exporter (exporter-batch sets SINK_MODE=batch); BENCH_EXPORTER_NODE_OPTIONS becomes
the exporter's NODE_OPTIONS.`;

const FULL_BOUNDS: Record<ScenarioName, number> = {
  "sink-binary": 90,
  "sink-batch": 60,
  baseline: 60,
  ceiling: 60,
  scaling: 30,
  exporter: 180,
  "exporter-batch": 120,
  original: 120,
  "peer-binary": 60,
  "peer-batch": 60,
  "cold-start": 90,
  tracing: 90,
  replicas: 60,
};
const QUICK_BOUNDS: Record<ScenarioName, number> = {
  "sink-binary": 20,
  "sink-batch": 20,
  baseline: 15,
  ceiling: 20,
  scaling: 10,
  exporter: 60,
  "exporter-batch": 60,
  original: 60,
  "peer-binary": 30,
  "peer-batch": 30,
  "cold-start": 60,
  tracing: 30,
  replicas: 20,
};

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value.replaceAll("_", ""));
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new Error(`--${name} needs a positive integer, got "${value}"`);
  return parsed;
}

function isScenario(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

function scenarioList(value: string | undefined): ScenarioName[] {
  if (value === undefined) return [...SCENARIO_NAMES];
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const unknown = names.filter((name) => !isScenario(name));
  if (unknown.length > 0)
    throw new Error(
      `unknown scenario(s) ${unknown.join(", ")}; known: ${SCENARIO_NAMES.join(", ")}`,
    );
  // Always in the canonical order: the comparisons need their inputs, and resets stay cheap.
  return SCENARIO_NAMES.filter((name) => names.includes(name));
}

function bounds(value: string | undefined, defaults: Record<ScenarioName, number>) {
  const result = { ...defaults };
  for (const pair of value?.split(",") ?? []) {
    const [name = "", seconds] = pair.split("=");
    if (!isScenario(name)) throw new Error(`--bounds: unknown scenario "${name}"`);
    result[name] = positive(seconds, 0, "bounds");
  }
  return result;
}

interface CliOptions {
  readonly help: boolean;
  readonly scenarios: ScenarioName[];
  readonly plan: BenchPlan;
}

export function parseCli(argv: readonly string[], resultsDir: string): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenarios: { type: "string" },
      quick: { type: "boolean", default: false },
      events: { type: "string" },
      bounds: { type: "string" },
      "scaling-steps": { type: "string" },
      "batch-concurrency": { type: "string" },
      "binary-concurrency": { type: "string" },
      "ceiling-batch": { type: "string" },
      "exporter-traces": { type: "string" },
      "peer-events": { type: "string" },
      "peer-concurrency": { type: "string" },
      "original-src": { type: "string" },
      "sink-cpu-prof": { type: "boolean", default: false },
      "exporter-tsx": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const quick = values.quick;
  const steps = values["scaling-steps"]
    ?.split(",")
    .map((step) => positive(step, 0, "scaling-steps"));
  const plan: BenchPlan = {
    quick,
    events: positive(values.events, quick ? 10_000 : 50_000, "events"),
    warmupEvents: quick ? 500 : 2_000,
    boundsSeconds: bounds(values.bounds, quick ? QUICK_BOUNDS : FULL_BOUNDS),
    scalingSteps: steps ?? (quick ? [2_000, 10_000, 20_000] : [10_000, 100_000, 500_000]),
    scalingMeasureEvents: quick ? 2_000 : 20_000,
    scalingTotalSeconds: quick ? 180 : 1_200,
    binaryConcurrency: positive(values["binary-concurrency"], 32, "binary-concurrency"),
    batchSize: 500,
    batchConcurrency: positive(values["batch-concurrency"], 8, "batch-concurrency"),
    ceilingBatchSizes: values["ceiling-batch"]
      ?.split(",")
      .map((size) => positive(size, 0, "ceiling-batch")) ?? [1_000, 2_000, 5_000],
    exporterTraces: positive(
      values["exporter-traces"],
      quick ? 20_000 : 200_000,
      "exporter-traces",
    ),
    exporterFromSource: values["exporter-tsx"],
    peerEvents: positive(values["peer-events"], 5_000, "peer-events"),
    peerConcurrency: positive(values["peer-concurrency"], 16, "peer-concurrency"),
    originalSrc: values["original-src"] ?? process.env["ORIGINAL_SRC"] ?? DEFAULT_ORIGINAL_SRC,
    cpuProfileDir: values["sink-cpu-prof"] ? join(resultsDir, "profiles") : undefined,
  };
  return { help: values.help, scenarios: scenarioList(values.scenarios), plan };
}
