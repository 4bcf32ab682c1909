import type { BenchNeo4j } from "./bench-neo4j.js";
import type { EventSet } from "./event-set.js";

export const SCENARIO_NAMES = [
  "sink-binary",
  "sink-batch",
  "baseline",
  "ceiling",
  "scaling",
  "exporter",
  "exporter-batch",
  "original",
  "peer-binary",
  "peer-batch",
  "cold-start",
  "tracing",
  "replicas",
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Counts, bounds and knobs of one run (`--quick` shrinks the counts, not the method). */
export interface BenchPlan {
  readonly quick: boolean;
  /** Events offered to each throughput scenario (binary, batch, baseline, ceiling). */
  readonly events: number;
  /** Events sent before measuring, so JIT and plan caches are warm; never counted. */
  readonly warmupEvents: number;
  /** Wall-clock bound per scenario, in seconds; scaling's applies to each measured step. */
  readonly boundsSeconds: Readonly<Record<ScenarioName, number>>;
  /** Action counts at which scaling measures. */
  readonly scalingSteps: readonly number[];
  /** Events posted (batch mode) at each scaling step, and run the original's way. */
  readonly scalingMeasureEvents: number;
  /** Whole scaling scenario, ours and the baseline's growth included. */
  readonly scalingTotalSeconds: number;
  readonly binaryConcurrency: number;
  readonly batchSize: number;
  readonly batchConcurrency: number;
  /** Transaction sizes the ceiling is measured at; the best counts. */
  readonly ceilingBatchSizes: readonly number[];
  readonly exporterTraces: number;
  /** Run the exporter's TypeScript sources through tsx instead of the compiled build. */
  readonly exporterFromSource: boolean;
  /** Events the peer scenarios (the original, ours beside it) measure. */
  readonly peerEvents: number;
  /** Connections of the peer and cold-start scenarios. */
  readonly peerConcurrency: number;
  /** A clone (or mirror) of the original Go project to build its sink from. */
  readonly originalSrc: string;
  /** Directory for the sink's V8 CPU profiles, when asked for. */
  readonly cpuProfileDir: string | undefined;
}

export interface ScenarioResult {
  readonly scenario: ScenarioName;
  /** Events completed within the bound (acknowledged, committed or delivered). */
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** False when the bound stopped the scenario before all offered events were done. */
  readonly complete: boolean;
  /** One line for the table. */
  readonly note: string;
  /** Raw figures for the JSON file. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** What a scenario gets; the database and the events are created on first use. */
export interface BenchContext {
  readonly plan: BenchPlan;
  db(): Promise<BenchNeo4j>;
  events(): Promise<EventSet>;
}

export type Scenario = (context: BenchContext) => Promise<ScenarioResult>;
