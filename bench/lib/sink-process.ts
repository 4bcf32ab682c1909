import { mkdirSync } from "node:fs";
import { freePort, REPO_ROOT, startProcess, waitForHttp, type ManagedProcess } from "@cts/devkit";
import type { BenchNeo4j } from "./bench-neo4j.js";
import { onInterrupt } from "./cleanup.js";

/** The sink's write metrics at one moment (cumulative since it started). */
interface SinkWriteStats {
  readonly transactions: number;
  readonly events: number;
  readonly writeSeconds: number;
}

/** What the sink did between two snapshots: the batching the benchmark actually got. */
interface SinkWriteDelta {
  readonly transactions: number;
  readonly eventsPerTransaction: number;
  readonly msPerTransaction: number;
  /** Share of the wall time a write transaction was in flight (1 = Neo4j never idle). */
  readonly writeBusy: number;
}

export interface SinkProcess {
  readonly url: string;
  readonly pid: number | undefined;
  writeStats(): Promise<SinkWriteStats>;
  output(): string;
  /** SIGTERM: the sink flushes, closes, and (with a CPU profile) writes the profile. */
  stop(): Promise<void>;
}

interface SinkProcessOptions {
  /** SINK_* variables for this scenario; those of the benchmark's own environment win. */
  readonly env?: Readonly<Record<string, string>>;
  /** Write a V8 CPU profile of the sink into this directory when it stops. */
  readonly cpuProfileDir?: string;
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
 * Runs `neo4j_sink/src/main.ts` as its own process (as in production and in the end-to-end
 * tests), so the load generator and the sink do not share an event loop. It creates the
 * schema itself at start, as it would in a cluster.
 */
export async function startSinkProcess(
  db: BenchNeo4j,
  options: SinkProcessOptions = {},
): Promise<SinkProcess> {
  const port = await freePort();
  const profile =
    options.cpuProfileDir === undefined
      ? []
      : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`];
  if (options.cpuProfileDir !== undefined) mkdirSync(options.cpuProfileDir, { recursive: true });
  const child: ManagedProcess = startProcess({
    name: "neo4j_sink",
    command: process.execPath,
    args: ["--import", "tsx", "--conditions=@cts/source", ...profile, "neo4j_sink/src/main.ts"],
    cwd: REPO_ROOT,
    env: {
      PATH: process.env["PATH"],
      HOME: process.env["HOME"],
      NEO4J_URI: db.uri,
      NEO4J_USER: db.user,
      NEO4J_PASSWORD: db.password,
      PORT: String(port),
      SINK_HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      ...options.env,
      ...passedThrough(),
    },
  });
  const forget = onInterrupt(() => child.stop("SIGKILL"));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/readyz`, { process: child, timeoutMs: 120_000 });
  } catch (error) {
    await child.stop("SIGKILL");
    forget();
    throw error;
  }
  return {
    url: `${url}/`,
    pid: child.child.pid,
    async writeStats() {
      const text = await (await fetch(`${url}/metrics`)).text();
      return {
        transactions: metric(text, "neo4j_sink_batch_size_events_count"),
        events: metric(text, "neo4j_sink_batch_size_events_sum"),
        writeSeconds: metric(text, "neo4j_sink_write_duration_seconds_sum"),
      };
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
