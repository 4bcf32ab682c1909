import { mkdirSync } from "node:fs";
import { startSinkProcess as startSink } from "@cts/devkit";
import type { BenchNeo4j } from "./bench-neo4j.js";
import type { EventSet } from "./event-set.js";
import { onInterrupt } from "./cleanup.js";
import { cpuMsPerEvent, meterCpu } from "./cpu.js";
import { postAll, type LoadOptions, type LoadResult, type Shot } from "./http-load.js";
import type { BenchContext } from "./types.js";

/** The sink's write metrics at one moment (cumulative since it started). */
interface SinkWriteStats {
  readonly transactions: number;
  readonly events: number;
  readonly writeSeconds: number;
}

/** What the sink did between two snapshots: the batching the benchmark actually got. */
export interface SinkWriteDelta {
  readonly transactions: number;
  readonly eventsPerTransaction: number;
  readonly msPerTransaction: number;
  /** Share of the wall time a write transaction was in flight (1 = Neo4j never idle). */
  readonly writeBusy: number;
}

/** One measured load on a running sink: the answers, its writes and the cores used meanwhile. */
export interface SinkRun {
  readonly load: LoadResult;
  readonly writes: SinkWriteDelta;
  readonly cores: Readonly<Record<string, number>>;
}

export interface SinkProcess {
  readonly url: string;
  readonly pid: number | undefined;
  writeStats(): Promise<SinkWriteStats>;
  /** Posts `shots`, metering the CPU of Neo4j, the sink and this process, and the sink's writes. */
  measure(shots: readonly Shot[], options: Omit<LoadOptions, "url">): Promise<SinkRun>;
  output(): string;
  /** SIGTERM: the sink flushes, closes, and (with a CPU profile) writes the profile. */
  stop(): Promise<void>;
}

interface SinkProcessOptions {
  /** SINK_* variables for this scenario; those of the benchmark's own environment win. */
  readonly env?: Readonly<Record<string, string>>;
  /** Write a V8 CPU profile of the sink into this directory when it stops. */
  readonly cpuProfileDir?: string | undefined;
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name} ([0-9.eE+-]+)$`, "m").exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

/** Tuning the operator passes through, e.g. `SINK_BATCH_MAX_EVENTS=5000 pnpm bench`. */
function passedThrough(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[0].startsWith("SINK_") && entry[1] !== undefined,
    ),
  );
}

export function writeDelta(
  before: SinkWriteStats,
  after: SinkWriteStats,
  elapsedMs: number,
): SinkWriteDelta {
  const transactions = after.transactions - before.transactions;
  const seconds = after.writeSeconds - before.writeSeconds;
  return {
    transactions,
    eventsPerTransaction: transactions === 0 ? 0 : (after.events - before.events) / transactions,
    msPerTransaction: transactions === 0 ? 0 : (seconds * 1000) / transactions,
    writeBusy: elapsedMs === 0 ? 0 : (seconds * 1000) / elapsedMs,
  };
}

/**
 * Runs the sink as its own process (devkit's startSinkProcess, as in production and in the
 * end-to-end tests), so the load generator and the sink do not share an event loop. It creates
 * the schema itself at start, as it would in a cluster.
 */
export async function startSinkProcess(
  db: BenchNeo4j,
  options: SinkProcessOptions = {},
): Promise<SinkProcess> {
  const profileDir = options.cpuProfileDir;
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const sink = await startSink(db, {
    env: { LOG_LEVEL: "warn", ...options.env, ...passedThrough() },
    nodeArgs: profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
    readyTimeoutMs: 120_000,
  });
  const child = sink.process;
  const forget = onInterrupt(() => child.stop("SIGKILL"));
  const url = `${sink.url}/`;
  const writeStats = async (): Promise<SinkWriteStats> => {
    const text = await (await fetch(`${sink.url}/metrics`)).text();
    return {
      transactions: metric(text, "neo4j_sink_batch_size_events_count"),
      events: metric(text, "neo4j_sink_batch_size_events_sum"),
      writeSeconds: metric(text, "neo4j_sink_write_duration_seconds_sum"),
    };
  };
  return {
    url,
    pid: sink.pid,
    writeStats,
    async measure(shots, load) {
      const before = await writeStats();
      const cpu = meterCpu({ neo4j: db.pid, sink: sink.pid, client: process.pid });
      const answered = await postAll(shots, { ...load, url });
      const cores = cpu.stop();
      const writes = writeDelta(before, await writeStats(), answered.elapsedMs);
      return { load: answered, writes, cores };
    },
    output: () => child.output(),
    async stop() {
      const code = await child.stop("SIGTERM", 30_000);
      forget();
      if (code !== 0)
        throw new Error(`the sink exited with ${code}\n${child.output().slice(-2000)}`);
    },
  };
}

/**
 * Runs `scenario` on a fresh database with a new sink (with `env`, profiled when the plan asks
 * for it), and stops the sink afterwards.
 */
export async function withFreshSink<T>(
  context: BenchContext,
  env: Readonly<Record<string, string>>,
  scenario: (run: { sink: SinkProcess; db: BenchNeo4j; events: EventSet }) => Promise<T>,
): Promise<T> {
  const [db, events] = [await context.db(), await context.events()];
  await db.reset();
  const sink = await startSinkProcess(db, { env, cpuProfileDir: context.plan.cpuProfileDir });
  try {
    return await scenario({ sink, db, events });
  } finally {
    await sink.stop();
  }
}

/** The figures of a sink run the HTTP scenarios record, in the order their details list them. */
export function sinkRunDetails({ load, writes, cores }: SinkRun, concurrency: number) {
  return {
    requests: load.requests,
    failures: load.failures,
    concurrency,
    sinkWrites: writes,
    cpuCores: cores,
    neo4jCpuMsPerEvent: cpuMsPerEvent(cores["neo4j"], load.elapsedMs, load.events),
  };
}
