import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import {
  FROM_SOURCES,
  REPO_ROOT,
  SERVICE_ENTRY,
  startNode,
  startService,
  waitFor,
  type ManagedProcess,
} from "@cts/devkit";
import { startSimulator } from "@cts/otc_simulator";
import { onInterrupt } from "../lib/cleanup.js";
import { meterCpu, peakRssMiB } from "../lib/cpu.js";
import { formatNumber, log } from "../lib/progress.js";
import { rate, round } from "../lib/stats.js";
import type { BenchContext, ScenarioName, ScenarioResult } from "../lib/types.js";

const MINUTE = 60_000;
const execFileAsync = promisify(execFile);
/** What `pnpm start:exporter` and the container run, after `pnpm build`. */
const DIST_ENTRY = "cts_exporter/dist/main.js";

interface ReceiverStats {
  readonly events: number;
  readonly requests: number;
  readonly bytes: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

let built: Promise<void> | undefined;

/**
 * Compiles the exporter and @cts/shared (as its Dockerfile does) once per run, so the figures
 * are those of the code `pnpm start:exporter` and the image run, never of a stale dist/.
 * Running the sources through tsx costs the exporter about a third of its throughput and
 * doubles its peak RSS (bench/README.md), which is not what production sees.
 */
function buildExporter(): Promise<void> {
  return (built ??= (async () => {
    log("exporter: compiling cts_exporter and @cts/shared (pnpm build)");
    await execFileAsync("pnpm", ["--filter-prod", "@cts/cts_exporter...", "run", "build"], {
      cwd: REPO_ROOT,
    });
    if (!existsSync(join(REPO_ROOT, DIST_ENTRY)))
      throw new Error(`the build left no ${DIST_ENTRY}`);
  })());
}

/**
 * Node's arguments as `pnpm start:exporter` gives them (its flags, e.g. heap limits, and the
 * compiled entry point), so the benchmark runs the exporter exactly as its users do.
 */
function startExporterArgs(): string[] {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  const [command, ...args] = (manifest.scripts?.["start:exporter"] ?? "").trim().split(/\s+/);
  return command === "node" && args.length > 0 ? args : [DIST_ENTRY];
}

/** `child`, also killed on Ctrl-C while it runs. */
function killedOnInterrupt(child: ManagedProcess): ManagedProcess {
  const forget = onInterrupt(() => child.stop("SIGKILL"));
  void child.exited().then(forget);
  return child;
}

async function startReceiver(): Promise<{ process: ManagedProcess; url: string }> {
  const receiver = killedOnInterrupt(
    startService("bench/lib/receiver-main.ts", { name: "receiver" }),
  );
  let port: number | undefined;
  await waitFor(
    () => {
      port = (
        JSON.parse(/\{"port":\d+\}/.exec(receiver.output())?.[0] ?? "{}") as { port?: number }
      ).port;
      return port !== undefined;
    },
    { timeoutMs: 30_000, message: "the receiver did not start" },
  );
  return { process: receiver, url: `http://127.0.0.1:${String(port)}` };
}

/** The exporter's own summary line: what it collected and sent, and how long the cycle took. */
function cycleSummary(
  output: string,
): { collected: number; sent: number; durationMs: number } | undefined {
  const line = output.split("\n").find((text) => text.includes('"msg":"cycle finished"'));
  return line === undefined
    ? undefined
    : (JSON.parse(line) as { collected: number; sent: number; durationMs: number });
}

/** SINK_* tuning for the exporter, e.g. `SINK_CONCURRENCY=64 pnpm bench --scenarios exporter`. */
function exporterTuning(mode: "binary" | "batch"): Record<string, string> {
  const names = ["SINK_BATCH_SIZE", "SINK_CONCURRENCY"];
  const defaults = mode === "batch" ? { SINK_MODE: "batch" } : {};
  return Object.assign(
    defaults,
    Object.fromEntries(
      names.flatMap((name) => {
        const value = process.env[name];
        return value === undefined ? [] : [[name, value]];
      }),
    ),
  );
}

/** BENCH_EXPORTER_NODE_OPTIONS becomes the exporter's NODE_OPTIONS (e.g. a heap limit). */
function nodeOptions(): Record<string, string> {
  const value = process.env["BENCH_EXPORTER_NODE_OPTIONS"];
  return value === undefined || value === "" ? {} : { NODE_OPTIONS: value };
}

/**
 * 6. Exporter: the simulator serves `exporterTraces` traces in one window; the exporter (its
 * own process, `--once`) lists them page by page, maps them and delivers them to a receiver
 * that answers 202. Events per second over the exporter's cycle and its peak RSS (VmHWM).
 */
export async function runExporterScenario(
  context: BenchContext,
  mode: "binary" | "batch",
  variant: { readonly scenario?: ScenarioName; readonly env?: Record<string, string> } = {},
): Promise<ScenarioResult> {
  const { plan } = context;
  const scenario = variant.scenario ?? (mode === "batch" ? "exporter-batch" : "exporter");
  const now = Date.now();
  const count = plan.exporterTraces;
  log(`exporter: simulator preloading ${formatNumber(count)} traces in one window`);
  const sim = await startSimulator({
    seed: 11,
    trackServed: false,
    preload: { count, from: now - 50 * MINUTE, to: now - MINUTE, lateFraction: 0 },
  });
  const dir = await mkdtemp(join(tmpdir(), "cts-bench-"));
  const receiver = await startReceiver();
  try {
    const clouds = join(dir, "clouds.yaml");
    await writeFile(clouds, sim.cloudsYaml({ cloud: "sim" }));
    const idleTsxMiB = peakRssMiB(receiver.process.child.pid);
    const tuning = exporterTuning(mode);
    log(`exporter: --once over ${formatNumber(count)} traces ${JSON.stringify(tuning)}`);
    const dist = !plan.exporterFromSource;
    if (dist) await buildExporter();
    const args = dist ? startExporterArgs() : [...FROM_SOURCES, SERVICE_ENTRY.cts_exporter];
    const started = performance.now();
    const child = killedOnInterrupt(
      startNode([...args, "--once"], {
        name: "cts_exporter",
        env: {
          OS_CLIENT_CONFIG_FILE: clouds,
          OS_CLOUD: "sim",
          K_SINK: `${receiver.url}/`,
          CTS_FROM: "60",
          PORT: "0",
          ...tuning,
          ...nodeOptions(),
          ...variant.env,
        },
      }),
    );
    const cpu = meterCpu({
      exporter: child.child.pid,
      receiver: receiver.process.child.pid,
      simulator: process.pid,
    });
    const deadline = started + plan.boundsSeconds[scenario] * 1000;
    let peak = 0;
    let lastLog = started;
    let exitCode: number | string | undefined;
    void child.exited().then((code) => (exitCode = code));
    while (exitCode === undefined && performance.now() < deadline) {
      peak = Math.max(peak, peakRssMiB(child.child.pid) ?? 0);
      cpu.sample();
      if (performance.now() - lastLog > 5_000) {
        lastLog = performance.now();
        const seen = (await (await fetch(`${receiver.url}/stats`)).json()) as ReceiverStats;
        log(
          `  exporter: ${formatNumber(seen.events)} of ${formatNumber(count)} delivered, peak RSS ${round(peak)} MiB`,
        );
      }
      await sleep(100);
    }
    const cores = cpu.stop();
    exitCode ??= `killed at the ${plan.boundsSeconds[scenario]} s bound: ${String(await child.stop("SIGKILL"))}`;
    const wallMs = performance.now() - started;
    const received = (await (await fetch(`${receiver.url}/stats`)).json()) as ReceiverStats;
    const summary = cycleSummary(child.output());
    const cycleMs = summary?.durationMs ?? wallMs;
    const eventsPerSecond = rate(received.events, cycleMs);
    const flags = [...args, ...(nodeOptions()["NODE_OPTIONS"]?.split(" ") ?? [])]
      .filter((arg) => arg.startsWith("--") && !(FROM_SOURCES as readonly string[]).includes(arg))
      .join(" ");
    return {
      scenario,
      events: received.events,
      seconds: cycleMs / 1000,
      eventsPerSecond,
      complete: received.events >= count && exitCode === 0,
      note:
        `peak RSS ${round(peak)} MiB; ${dist ? "compiled" : "tsx"}${flags === "" ? "" : ` ${flags}`}; ` +
        `${formatNumber(received.requests)} requests; exit ${String(exitCode)}`,
      details: {
        offered: count,
        runs: `node ${args.join(" ")} --once`,
        peakRssMiB: round(peak, 1),
        idleTsxProcessRssMiB: round(idleTsxMiB ?? 0, 1),
        exitCode,
        wallSeconds: wallMs / 1000,
        cycle: summary ?? null,
        receiver: received,
        receiverSpanEventsPerSecond: rate(received.events, received.lastMs - received.firstMs),
        tuning,
        nodeOptions: nodeOptions()["NODE_OPTIONS"] ?? null,
        cpuCores: cores,
      },
    };
  } finally {
    await receiver.process.stop("SIGTERM", 5_000);
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** 6. The exporter as configured by default: binary mode, 16 requests in flight. */
export function exporter(context: BenchContext): Promise<ScenarioResult> {
  return runExporterScenario(context, "binary");
}

/** 6b. The same with SINK_MODE=batch (200 events per request by default). */
export function exporterBatch(context: BenchContext): Promise<ScenarioResult> {
  return runExporterScenario(context, "batch");
}
