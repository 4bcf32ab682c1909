import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { REPO_ROOT, startProcess, waitFor, type ManagedProcess } from "@cts/devkit";
import { startSimulator } from "@cts/otc_simulator";
import { onInterrupt } from "../lib/cleanup.js";
import { meterCpu, peakRssMiB } from "../lib/cpu.js";
import { formatNumber, log } from "../lib/progress.js";
import { rate, round } from "../lib/stats.js";
import type { BenchContext, ScenarioResult } from "../lib/types.js";

const MINUTE = 60_000;

interface ReceiverStats {
  readonly events: number;
  readonly requests: number;
  readonly bytes: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

function tsxProcess(
  name: string,
  entry: string,
  options: { env: Record<string, string>; args?: string[] },
): ManagedProcess {
  const child = startProcess({
    name,
    command: process.execPath,
    args: ["--import", "tsx", "--conditions=@cts/source", entry, ...(options.args ?? [])],
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"], HOME: process.env["HOME"], ...options.env },
  });
  const forget = onInterrupt(() => child.stop("SIGKILL"));
  void child.exited().then(forget);
  return child;
}

async function startReceiver(): Promise<{ process: ManagedProcess; url: string }> {
  const receiver = tsxProcess("receiver", "bench/lib/receiver-main.ts", { env: {} });
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

/** SINK_* tuning for the exporter, e.g. `SINK_MODE=batch pnpm bench --scenarios exporter`. */
function exporterTuning(): Record<string, string> {
  const names = ["SINK_MODE", "SINK_BATCH_SIZE", "SINK_CONCURRENCY"];
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = process.env[name];
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

/**
 * 6. Exporter: the simulator serves `exporterTraces` traces in one window; the exporter (its
 * own process, `--once`) lists them page by page, maps them and delivers them to a receiver
 * that answers 202. Events per second over the exporter's cycle and its peak RSS (VmHWM).
 */
export async function exporter(context: BenchContext): Promise<ScenarioResult> {
  const { plan } = context;
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
    const tuning = exporterTuning();
    log(`exporter: --once over ${formatNumber(count)} traces ${JSON.stringify(tuning)}`);
    const started = performance.now();
    const child = tsxProcess("cts_exporter", "cts_exporter/src/main.ts", {
      args: ["--once"],
      env: {
        OS_CLIENT_CONFIG_FILE: clouds,
        OS_CLOUD: "sim",
        K_SINK: `${receiver.url}/`,
        CTS_FROM: "60",
        PORT: "0",
        ...tuning,
      },
    });
    const cpu = meterCpu({
      exporter: child.child.pid,
      receiver: receiver.process.child.pid,
      simulator: process.pid,
    });
    const deadline = started + plan.boundsSeconds.exporter * 1000;
    let peak = 0;
    let lastLog = started;
    let exitCode: number | string | undefined;
    void child.exited().then((code) => (exitCode = code));
    while (exitCode === undefined && performance.now() < deadline) {
      peak = Math.max(peak, peakRssMiB(child.child.pid) ?? 0);
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
    exitCode ??= `killed at the ${plan.boundsSeconds.exporter} s bound: ${String(await child.stop("SIGKILL"))}`;
    const wallMs = performance.now() - started;
    const received = (await (await fetch(`${receiver.url}/stats`)).json()) as ReceiverStats;
    const summary = cycleSummary(child.output());
    const cycleMs = summary?.durationMs ?? wallMs;
    const eventsPerSecond = rate(received.events, cycleMs);
    return {
      scenario: "exporter",
      events: received.events,
      seconds: cycleMs / 1000,
      eventsPerSecond,
      complete: received.events >= count && exitCode === 0,
      note: `peak RSS ${round(peak)} MiB (idle tsx process ${round(idleTsxMiB ?? 0)} MiB); ${received.requests} requests; exit ${String(exitCode)}`,
      details: {
        offered: count,
        peakRssMiB: round(peak, 1),
        idleTsxProcessRssMiB: round(idleTsxMiB ?? 0, 1),
        exitCode,
        wallSeconds: wallMs / 1000,
        cycle: summary ?? null,
        receiver: received,
        receiverSpanEventsPerSecond: rate(received.events, received.lastMs - received.firstMs),
        tuning,
        cpuCores: cores,
      },
    };
  } finally {
    await receiver.process.stop("SIGTERM", 5_000);
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}
