import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MachineInfo, SourceInfo } from "./machine.js";
import { ratio, round } from "./stats.js";
import type { BenchPlan, ScenarioName, ScenarioResult } from "./types.js";

export type Results = Partial<Record<ScenarioName, ScenarioResult>>;

/** A figure derived from two scenarios (ours over the baseline, over the ceiling...). */
interface Comparison {
  readonly name: string;
  readonly value: number | undefined;
  readonly basis: string;
}

interface Target {
  readonly name: string;
  readonly goal: string;
  readonly measured: number | undefined;
  readonly unit: string;
  /** undefined when the run did not measure it. */
  readonly met: boolean | undefined;
}

export interface Report {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly argv: readonly string[];
  readonly source: SourceInfo;
  readonly plan: BenchPlan;
  readonly machine: MachineInfo & {
    readonly neo4j: string | undefined;
    readonly neo4jMemory: { readonly heap: string; readonly pageCache: string } | undefined;
    readonly loadAtEnd: readonly number[];
  };
  readonly results: Results;
  readonly comparisons: readonly Comparison[];
  readonly targets: readonly Target[];
  readonly scenarioLoad: Readonly<Record<string, { before: number[]; after: number[] }>>;
}

interface Step {
  readonly target: number;
  readonly actions: number;
  readonly eventsPerSecond: number;
}

function scalingSteps(results: Results): { ours: Step[]; original: Step[]; ratio?: number } {
  const details = results.scaling?.details as
    { ours?: Step[]; original?: Step[]; oursRatio?: number | null } | undefined;
  return {
    ours: details?.ours ?? [],
    original: details?.original ?? [],
    ...(details?.oursRatio == null ? {} : { ratio: details.oursRatio }),
  };
}

/** Ours over the original at 100k actions, or at the largest size both sides reached. */
function againstOriginalAt100k(results: Results): { value?: number; basis: string } {
  const { ours, original } = scalingSteps(results);
  const shared = original.filter((step) => ours.some((o) => o.target === step.target));
  const pick = shared.find((step) => step.target === 100_000) ?? shared.at(-1);
  if (pick === undefined) return { basis: "scaling not run" };
  const mine = ours.find((step) => step.target === pick.target);
  const value = ratio(mine?.eventsPerSecond, pick.eventsPerSecond);
  return {
    ...(value === undefined ? {} : { value }),
    basis: `sink batch / original, both at ~${pick.target.toLocaleString("en-US")} actions`,
  };
}

export function compare(results: Results): Comparison[] {
  const eps = (name: ScenarioName) => results[name]?.eventsPerSecond;
  const at100k = againstOriginalAt100k(results);
  return [
    {
      name: "batch / baseline (fresh db)",
      value: ratio(eps("sink-batch"), eps("baseline")),
      basis: "scenario 2 / scenario 3",
    },
    {
      name: "binary / baseline (fresh db)",
      value: ratio(eps("sink-binary"), eps("baseline")),
      basis: "scenario 1 / scenario 3",
    },
    { name: "ours / original at 100k actions", value: at100k.value, basis: at100k.basis },
    {
      name: "batch / ceiling",
      value: ratio(eps("sink-batch"), eps("ceiling")),
      basis: "scenario 2 / scenario 4",
    },
    {
      name: "binary / ceiling",
      value: ratio(eps("sink-binary"), eps("ceiling")),
      basis: "scenario 1 / scenario 4",
    },
    {
      name: "ours / original, binary (5k events)",
      value: ratio(eps("peer-binary"), eps("original")),
      basis: "peer-binary / original, graph-complete, same run",
    },
    {
      name: "ours / original, batch (5k events)",
      value: ratio(eps("peer-batch"), eps("original")),
      basis: "peer-batch / original (binary, its only mode), graph-complete, same run",
    },
    {
      name: "cold start: warm / first 1,000",
      value: (results["cold-start"]?.details as { warmOverCold?: number } | undefined)
        ?.warmOverCold,
      basis: "cold-start: warm rate over the rate of the first 1,000 events",
    },
    {
      name: "scaling last/first (ours)",
      value: scalingSteps(results).ratio,
      basis: "scenario 5",
    },
  ];
}

const atLeast = (value: number | undefined, goal: number) =>
  value === undefined ? undefined : value >= goal;
const atMost = (value: number | undefined, goal: number) =>
  value === undefined ? undefined : value <= goal;

export function evaluateTargets(results: Results, comparisons: readonly Comparison[]): Target[] {
  const value = (name: string) => comparisons.find((c) => c.name === name)?.value;
  const rssMB = (name: "exporter" | "exporter-batch") => {
    const mib = (results[name]?.details as { peakRssMiB?: number } | undefined)?.peakRssMiB;
    return mib === undefined ? undefined : (mib * 1024 * 1024) / 1e6;
  };
  return [
    {
      name: "sink, batch mode",
      goal: ">= 5,000 events/s",
      measured: results["sink-batch"]?.eventsPerSecond,
      unit: "events/s",
      met: atLeast(results["sink-batch"]?.eventsPerSecond, 5_000),
    },
    {
      name: "sink, binary mode",
      goal: ">= 2,000 events/s",
      measured: results["sink-binary"]?.eventsPerSecond,
      unit: "events/s",
      met: atLeast(results["sink-binary"]?.eventsPerSecond, 2_000),
    },
    {
      name: "ours vs the original at 100k actions",
      goal: ">= 20x",
      measured: value("ours / original at 100k actions"),
      unit: "x",
      met: atLeast(value("ours / original at 100k actions"), 20),
    },
    {
      name: "batch mode vs the ceiling",
      goal: ">= 70%",
      measured: value("batch / ceiling"),
      unit: "ratio",
      met: atLeast(value("batch / ceiling"), 0.7),
    },
    {
      name: "scaling ratio (last/first)",
      goal: ">= 0.8",
      measured: value("scaling last/first (ours)"),
      unit: "ratio",
      met: atLeast(value("scaling last/first (ours)"), 0.8),
    },
    {
      name: "ours vs the original Go sink, binary mode",
      goal: ">= 10x",
      measured: value("ours / original, binary (5k events)"),
      unit: "x",
      met: atLeast(value("ours / original, binary (5k events)"), 10),
    },
    {
      name: "ours (batch) vs the original Go sink",
      goal: ">= 20x",
      measured: value("ours / original, batch (5k events)"),
      unit: "x",
      met: atLeast(value("ours / original, batch (5k events)"), 20),
    },
    {
      name: "cold start within 2x of warm",
      goal: "<= 2",
      measured: value("cold start: warm / first 1,000"),
      unit: "x",
      met: atMost(value("cold start: warm / first 1,000"), 2),
    },
    {
      name: "exporter throughput",
      goal: ">= 10,000 events/s",
      measured: results.exporter?.eventsPerSecond,
      unit: "events/s",
      met: atLeast(results.exporter?.eventsPerSecond, 10_000),
    },
    {
      name: "exporter peak RSS",
      goal: "<= 200 MB",
      measured: rssMB("exporter"),
      unit: "MB",
      met: atMost(rssMB("exporter"), 200),
    },
    {
      name: "exporter throughput (batch mode)",
      goal: ">= 10,000 events/s",
      measured: results["exporter-batch"]?.eventsPerSecond,
      unit: "events/s",
      met: atLeast(results["exporter-batch"]?.eventsPerSecond, 10_000),
    },
    {
      name: "exporter peak RSS (batch mode)",
      goal: "<= 200 MB",
      measured: rssMB("exporter-batch"),
      unit: "MB",
      met: atMost(rssMB("exporter-batch"), 200),
    },
  ];
}

const num = (value: number | undefined, digits = 0) =>
  value === undefined
    ? "–"
    : round(value, digits).toLocaleString("en-US", { maximumFractionDigits: digits });

/** The markdown the run prints (and the README quotes). */
export function renderMarkdown(report: Report): string {
  const lines = [
    "| scenario | events | seconds | events/s | p50 ms | p99 ms | notes |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const result of Object.values(report.results)) {
    const bounded = result.complete ? "" : " (time-bounded)";
    lines.push(
      `| ${result.scenario} | ${num(result.events)}${bounded} | ${num(result.seconds, 1)} | ` +
        `${num(result.eventsPerSecond)} | ${num(result.p50Ms, 1)} | ${num(result.p99Ms, 1)} | ${result.note} |`,
    );
  }
  lines.push("", "| comparison | value | basis |", "|---|---:|---|");
  for (const c of report.comparisons) {
    lines.push(`| ${c.name} | ${num(c.value, 2)} | ${c.basis} |`);
  }
  lines.push("", "| target | goal | measured | met |", "|---|---|---:|---|");
  for (const t of report.targets) {
    const met = t.met === undefined ? "not measured" : t.met ? "yes" : "**no**";
    const digits = t.unit === "ratio" || t.unit === "x" ? 2 : 0;
    lines.push(`| ${t.name} | ${t.goal} | ${num(t.measured, digits)} ${t.unit} | ${met} |`);
  }
  const m = report.machine;
  const memory =
    m.neo4jMemory === undefined
      ? "external"
      : `heap ${m.neo4jMemory.heap}, page cache ${m.neo4jMemory.pageCache}`;
  lines.push(
    "",
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memGiB} GiB RAM, Node ${m.node}, ` +
      `Neo4j ${m.neo4j ?? "not started"} (${memory}); load average at start ${m.loadAtStart.join(" ")}, ` +
      `at end ${m.loadAtEnd.join(" ")}. Run ${report.startedAt} – ${report.finishedAt}` +
      `${report.plan.quick ? " (--quick)" : ""}; commit ${report.source.commit}` +
      `${report.source.modified.length > 0 ? ` with uncommitted changes to ${report.source.modified.join(", ")}` : ""}.`,
  );
  return lines.join("\n");
}

/** Writes `<timestamp>.json` and `latest.json` (atomically) into `dir`; returns the first. */
export function writeReport(report: Report, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = report.startedAt.replaceAll(":", "-").replace(/\.\d+Z$/, "Z");
  const file = join(dir, `${stamp}${report.plan.quick ? "-quick" : ""}.json`);
  writeFileSync(file, text);
  const latest = join(dir, "latest.json");
  writeFileSync(`${latest}.tmp`, text);
  renameSync(`${latest}.tmp`, latest);
  return file;
}
