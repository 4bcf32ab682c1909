import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  freePort,
  REPO_ROOT,
  startProcess,
  waitForHttp,
  type ManagedProcess,
  type TestNeo4j,
} from "@cts/devkit";

/** The sink as `pnpm start:sink` runs it, but from the TypeScript sources, on a loopback port. */
export interface SinkProcess {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/**
 * Starts `neo4j_sink/src/main.ts` as a child process against `neo4j` with only PATH, HOME and
 * the given environment (nothing of the test runner's NEO4J_* leaks in), and waits for /readyz.
 */
export async function startSinkProcess(
  neo4j: Pick<TestNeo4j, "uri" | "user" | "password">,
  env: Readonly<Record<string, string>> = {},
): Promise<SinkProcess> {
  const port = await freePort();
  const child = startProcess({
    name: "neo4j_sink",
    command: process.execPath,
    args: ["--import", "tsx", "--conditions=@cts/source", "neo4j_sink/src/main.ts"],
    cwd: REPO_ROOT,
    env: {
      PATH: process.env["PATH"],
      HOME: process.env["HOME"],
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: neo4j.user,
      NEO4J_PASSWORD: neo4j.password,
      PORT: String(port),
      SINK_HOST: "127.0.0.1",
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/readyz`, { process: child, timeoutMs: 60_000 });
  } catch (error) {
    await stopProcess(child, "SIGKILL");
    throw error;
  }
  const pid = child.child.pid;
  if (pid === undefined) throw new Error("the sink process has no pid");
  return { process: child, pid, port, url };
}

/** Resident memory of a process from /proc/<pid>/status: now (VmRSS) and peak (VmHWM), bytes. */
export function memoryOf(pid: number): { rssBytes: number; peakRssBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
    if (match === null) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib("VmRSS"), peakRssBytes: kib("VmHWM") };
}

export const MiB = 1024 * 1024;

/**
 * Stops a child: `signal`, then SIGKILL after `graceMs`. Unlike devkit's `stop()`, it leaves no
 * timer behind once the child is gone (that one keeps a test file alive for its whole grace).
 */
export async function stopProcess(
  child: ManagedProcess,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 15_000,
): Promise<number | string> {
  const { exitCode, signalCode } = child.child;
  if (exitCode !== null || signalCode !== null) return child.exited();
  const grace = new AbortController();
  child.child.kill(signal);
  const late = sleep(graceMs, "late" as const, { signal: grace.signal }).catch(
    () => "exited" as const,
  );
  const first = await Promise.race([child.exited(), late]);
  grace.abort();
  if (first !== "late") return first;
  child.child.kill("SIGKILL");
  return child.exited();
}
