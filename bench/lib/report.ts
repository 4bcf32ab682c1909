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
  const over = (a: ScenarioName, b: ScenarioName) =>
    ratio(results[a]?.eventsPerSecond, results[b]?.eventsPerSecond);
  const at100k = againstOriginalAt100k(results);
  const coldStart = results["cold-start"]?.details as { warmOverCold?: number } | undefined;
  const rows: readonly (readonly [string, number | undefined, string])[] = [
    ["batch / baseline (fresh db)", over("sink-batch", "baseline"), "scenario 2 / scenario 3"],
    ["binary / baseline (fresh db)", over("sink-binary", "baseline"), "scenario 1 / scenario 3"],
    ["ours / original at 100k actions", at100k.value, at100k.basis],
    ["batch / ceiling", over("sink-batch", "ceiling"), "scenario 2 / scenario 4"],
    ["binary / ceiling", over("sink-binary", "ceiling"), "scenario 1 / scenario 4"],
    [
      "ours / original, binary (5k events)",
      over("peer-binary", "original"),
      "peer-binary / original, graph-complete, same run",
    ],
    [
      "ours / original, batch (5k events)",
      over("peer-batch", "original"),
      "peer-batch / original (binary, its only mode), graph-complete, same run",
    ],
    [
      "cold start: warm / first 1,000",
      coldStart?.warmOverCold,
      "cold-start: warm rate over the rate of the first 1,000 events",
    ],
    ["scaling last/first (ours)", scalingSteps(results).ratio, "scenario 5"],
  ];
  return rows.map(([name, value, basis]) => ({ name, value, basis }));
}

/** How a target's figure is read: from a scenario's result, or by a comparison's name. */
type Figure = ((results: Results) => number | undefined) | string;

const eventsPerSecond =
  (scenario: ScenarioName): Figure =>
  (results) =>
    results[scenario]?.eventsPerSecond;

/** Peak RSS in MB (10^6 bytes, as the goals say) from the scenario's VmHWM in MiB. */
const peakRssMB =
  (scenario: "exporter" | "exporter-batch"): Figure =>
  (results) => {
    const mib = (results[scenario]?.details as { peakRssMiB?: number } | undefined)?.peakRssMiB;
    return mib === undefined ? undefined : (mib * 1024 * 1024) / 1e6;
  };

/** Name, goal, unit and figure of each target, in the order the report lists them. */
const TARGETS: readonly (readonly [string, string, string, Figure])[] = [
  ["sink, batch mode", ">= 5,000 events/s", "events/s", eventsPerSecond("sink-batch")],
  ["sink, binary mode", ">= 2,000 events/s", "events/s", eventsPerSecond("sink-binary")],
  ["ours vs the original at 100k actions", ">= 20x", "x", "ours / original at 100k actions"],
  ["batch mode vs the ceiling", ">= 70%", "ratio", "batch / ceiling"],
  ["scaling ratio (last/first)", ">= 0.8", "ratio", "scaling last/first (ours)"],
  [
    "ours vs the original Go sink, binary mode",
    ">= 10x",
    "x",
    "ours / original, binary (5k events)",
  ],
  ["ours (batch) vs the original Go sink", ">= 20x", "x", "ours / original, batch (5k events)"],
  ["cold start within 2x of warm", "<= 2", "x", "cold start: warm / first 1,000"],
  ["exporter throughput", ">= 10,000 events/s", "events/s", eventsPerSecond("exporter")],
  ["exporter peak RSS", "<= 200 MB", "MB", peakRssMB("exporter")],
  [
    "exporter throughput (batch mode)",
    ">= 10,000 events/s",
    "events/s",
    eventsPerSecond("exporter-batch"),
  ],
  ["exporter peak RSS (batch mode)", "<= 200 MB", "MB", peakRssMB("exporter-batch")],
];

/**
 * Whether `value` meets `goal` as written (">= 5,000 events/s", ">= 70%", "<= 2"): the goal the
 * report shows is the one checked.
 */
function meets(value: number, goal: string): boolean {
  const [, sign, digits, percent] = /^([<>]=) ([\d,.]+)(%?)/.exec(goal) ?? [];
  if (sign === undefined || digits === undefined) throw new Error(`unreadable goal: ${goal}`);
  const bound = Number(digits.replaceAll(",", "")) / (percent === "%" ? 100 : 1);
  return sign === ">=" ? value >= bound : value <= bound;
}

export function evaluateTargets(results: Results, comparisons: readonly Comparison[]): Target[] {
  return TARGETS.map(([name, goal, unit, figure]) => {
    const measured =
      typeof figure === "string"
        ? comparisons.find((c) => c.name === figure)?.value
        : figure(results);
    return {
      name,
      goal,
      measured,
      unit,
      met: measured === undefined ? undefined : meets(measured, goal),
    };
  });
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
