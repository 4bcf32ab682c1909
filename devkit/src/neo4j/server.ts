import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import neo4j from "neo4j-driver";
import { AppError, ErrorCode } from "@cts/shared";
import {
  jvmArguments,
  NEO4J_VERSION,
  renderNeo4jConf,
  type Neo4jServerSettings,
} from "./settings.js";
import { endPid, isAlive } from "../testing/processes.js";

export type Progress = (line: string) => void;

interface ServerStatus {
  readonly running: boolean;
  readonly pid: number | undefined;
  readonly boltUri: string;
  readonly httpUrl: string;
}

const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 60_000;

const pidFile = (s: Neo4jServerSettings) => join(s.homeDir, "run", "server.pid");
const consoleLog = (s: Neo4jServerSettings) => join(s.homeDir, "logs", "console.log");
export const boltUri = (s: Neo4jServerSettings) => `bolt://127.0.0.1:${s.boltPort}`;
export const httpUrl = (s: Neo4jServerSettings) => `http://127.0.0.1:${s.httpPort}`;

function javaBinary(s: Neo4jServerSettings): string {
  return s.javaHome === undefined ? "java" : join(s.javaHome, "bin", "java");
}

/** Major version of the JVM we would run, or a clear error when there is none. */
function checkJava(s: Neo4jServerSettings): number {
  const java = javaBinary(s);
  const result = spawnSync(java, ["-version"], { encoding: "utf8", ...bounded(30_000) });
  if (result.error !== undefined || result.status !== 0) {
    throw new AppError(
      ErrorCode.TOOL_FAILED,
      `Java was not found (tried "${java}"). Neo4j ${NEO4J_VERSION} needs Java 17 or 21: ` +
        "install OpenJDK 17 (apt install openjdk-17-jre-headless) or set NEO4J_JAVA_HOME.",
    );
  }
  const match = /version "(\d+)/.exec(result.stderr);
  const major = match?.[1] === undefined ? 0 : Number(match[1]);
  if (major !== 17 && major !== 21) {
    throw new AppError(
      ErrorCode.TOOL_FAILED,
      `"${java}" is Java ${major}, but Neo4j ${NEO4J_VERSION} runs on Java 17 or 21 only. ` +
        "Point NEO4J_JAVA_HOME at a JDK 17 or 21 (e.g. /usr/lib/jvm/java-17-openjdk-amd64).",
    );
  }
  return major;
}

/** A first download of the jars takes about 15 s; a stalled one must not hold a CI run. */
const MAVEN_TIMEOUT_MS = 15 * 60_000;

/** Every tool this module runs is killed past its time limit rather than waited on forever. */
function bounded(timeoutMs: number) {
  return { timeout: timeoutMs, killSignal: "SIGKILL" as const };
}

function howItEnded(result: SpawnSyncReturns<string>, timeoutMs: number): string {
  const error = result.error as NodeJS.ErrnoException | undefined;
  if (error?.code === "ETIMEDOUT") return `killed after ${timeoutMs / 1000} s`;
  return result.signal === null ? `exit ${String(result.status)}` : `signal ${result.signal}`;
}

const jarMarker = (s: Neo4jServerSettings) => join(s.jarDir, ".complete");

/** Resolves the Neo4j server and Browser jars from Maven Central into the jar cache, once. */
function ensureJars(s: Neo4jServerSettings, progress: Progress): void {
  if (existsSync(jarMarker(s))) return;
  const mvn = spawnSync("mvn", ["-v"], { encoding: "utf8", ...bounded(60_000) });
  if (mvn.error !== undefined || mvn.status !== 0) {
    throw new AppError(
      ErrorCode.TOOL_FAILED,
      "Maven (mvn) was not found; it downloads the Neo4j jars from Maven Central. " +
        "Install it (apt install maven) or point NEO4J_URI at an existing Neo4j.",
    );
  }
  progress(`downloading Neo4j ${NEO4J_VERSION} jars from Maven Central into ${s.jarDir} ...`);
  rmSync(s.jarDir, { recursive: true, force: true });
  const result = spawnSync(
    "mvn",
    [
      "-q",
      "-B",
      "-f",
      s.pomFile,
      `-Dmaven.repo.local=${s.mavenRepo}`,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${s.jarDir}`,
      "-DincludeScope=runtime",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...bounded(MAVEN_TIMEOUT_MS) },
  );
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-15).join("\n");
    throw new AppError(
      ErrorCode.TOOL_FAILED,
      `mvn could not resolve the Neo4j jars (${howItEnded(result, MAVEN_TIMEOUT_MS)}). ` +
        `Check access to Maven Central. Maven said:\n${output}`,
    );
  }
  writeFileSync(jarMarker(s), `${NEO4J_VERSION}\n`);
  progress("jars cached");
}

/**
 * The server's pid: from the pid file, or, when that is missing or stale (a killed start script
 * can leave a server without one), from the process table by its --home-dir argument.
 */
function readPid(s: Neo4jServerSettings): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(s), "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && isNeo4jProcess(pid)) return pid;
  } catch {
    // no pid file: look for the process below
  }
  const marker = `--home-dir=${s.homeDir}\0`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes("org.neo4j.server.CommunityEntryPoint") && cmdline.includes(marker))
        return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** True when `pid` is alive and is a Neo4j server (pid files outlive reboots; pids get reused). */
function isNeo4jProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(
      "org.neo4j.server.CommunityEntryPoint",
    );
  } catch {
    return true;
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once("error", () => {
      resolvePromise(false);
    });
  });
}

type BoltCheck = "ok" | "unauthorized" | "unavailable";

async function checkBolt(s: Neo4jServerSettings): Promise<BoltCheck> {
  const driver = neo4j.driver(boltUri(s), neo4j.auth.basic("neo4j", s.password), {
    connectionTimeout: 2_000,
    logging: { level: "error", logger: () => undefined },
  });
  try {
    // The default database answers only once it is online, which is what callers wait for.
    await driver.executeQuery("RETURN 1");
    return "ok";
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    return code.startsWith("Neo.ClientError.Security.") ? "unauthorized" : "unavailable";
  } finally {
    await driver.close();
  }
}

export async function status(s: Neo4jServerSettings): Promise<ServerStatus> {
  const pid = readPid(s);
  const alive = pid !== undefined && isNeo4jProcess(pid);
  const running = alive && (await checkBolt(s)) === "ok";
  return { running, pid: alive ? pid : undefined, boltUri: boltUri(s), httpUrl: httpUrl(s) };
}

function logTail(s: Neo4jServerSettings): string {
  const lines: string[] = [];
  for (const file of [consoleLog(s), join(s.homeDir, "logs", "neo4j.log")]) {
    if (existsSync(file)) lines.push(...readFileSync(file, "utf8").trim().split("\n").slice(-12));
  }
  return lines.join("\n");
}

function prepareHome(s: Neo4jServerSettings, progress: Progress): void {
  for (const name of ["conf", "data", "logs", "run", "import", "plugins"]) {
    mkdirSync(join(s.homeDir, name), { recursive: true });
  }
  writeFileSync(join(s.homeDir, "conf", "neo4j.conf"), renderNeo4jConf(s));
  const initialised = existsSync(join(s.homeDir, "data", "databases", "system"));
  if (initialised) return;
  // set-initial-password writes data/dbms/auth.ini, which the system database imports on its
  // first start; without it the server would accept neo4j/neo4j.
  progress("setting the initial password");
  const result = spawnSync(
    javaBinary(s),
    [
      "-cp",
      `${s.jarDir}/*`,
      "org.neo4j.server.startup.Neo4jAdminCommand",
      "dbms",
      "set-initial-password",
      s.password,
    ],
    {
      encoding: "utf8",
      env: { ...process.env, NEO4J_HOME: s.homeDir, NEO4J_CONF: join(s.homeDir, "conf") },
      ...bounded(120_000),
    },
  );
  if (result.status !== 0) {
    throw new AppError(
      ErrorCode.TOOL_FAILED,
      `neo4j-admin set-initial-password failed in ${s.homeDir} (${howItEnded(result, 120_000)}): ${result.stderr.trim().split("\n").slice(-5).join(" ")}`,
    );
  }
}

/** Fails the start when another process holds the Bolt or the HTTP port. */
async function ensurePortsFree(s: Neo4jServerSettings): Promise<void> {
  for (const [name, port] of [
    ["NEO4J_BOLT_PORT", s.boltPort],
    ["NEO4J_HTTP_PORT", s.httpPort],
  ] as const) {
    if (await portInUse(port)) {
      throw new AppError(
        ErrorCode.TOOL_FAILED,
        `port ${port} on 127.0.0.1 is already in use by another process; free it or set ${name} to another port`,
      );
    }
  }
}

/** A server started in the background: its pid, and its exit code once it has exited. */
interface SpawnedServer {
  readonly pid: number;
  /** undefined while it runs; null when a signal ended it. */
  exitCode(): number | null | undefined;
}

/** Spawns the JVM detached, its output appended to the console log, and records its pid. */
function spawnServer(s: Neo4jServerSettings): SpawnedServer {
  const logFd = openSync(consoleLog(s), "a");
  const child = spawn(javaBinary(s), jvmArguments(s), {
    cwd: s.homeDir,
    detached: true,
    stdio: ["ignore", logFd, logFd],
    env: { ...process.env, NEO4J_HOME: s.homeDir, NEO4J_CONF: join(s.homeDir, "conf") },
  });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined)
    throw new AppError(ErrorCode.TOOL_FAILED, "could not spawn java for Neo4j");
  let exitCode: number | null | undefined;
  child.once("exit", (code) => {
    exitCode = code;
  });
  child.unref();
  writeFileSync(pidFile(s), `${pid}\n`);
  return { pid, exitCode: () => exitCode };
}

/**
 * Waits until an authenticated Bolt query works. A server that exits, refuses the password or
 * is not up within START_TIMEOUT_MS (counted from `begin`) fails the start, stopped first.
 */
async function awaitBolt(
  s: Neo4jServerSettings,
  server: SpawnedServer,
  begin: number,
): Promise<void> {
  for (;;) {
    const exitCode = server.exitCode();
    if (exitCode !== undefined) {
      rmSync(pidFile(s), { force: true });
      throw new AppError(
        ErrorCode.TOOL_FAILED,
        `Neo4j exited during start-up (code ${exitCode ?? "signal"}). Last log lines:\n${logTail(s)}`,
      );
    }
    const check = await checkBolt(s);
    if (check === "ok") return;
    if (check === "unauthorized") {
      await stop(s, () => undefined);
      throw new AppError(
        ErrorCode.NEO4J_AUTH_FAILED,
        `Neo4j in ${s.homeDir} rejects NEO4J_PASSWORD: its data was created with another password. ` +
          `Use that password, or delete ${join(s.homeDir, "data")} to start with an empty database.`,
      );
    }
    if (Date.now() - begin > START_TIMEOUT_MS) {
      await stop(s, () => undefined);
      throw new AppError(
        ErrorCode.TOOL_FAILED,
        `Neo4j did not accept Bolt connections within ${START_TIMEOUT_MS / 1000}s. Last log lines:\n${logTail(s)}`,
      );
    }
    await sleep(500);
  }
}

interface StartResult extends ServerStatus {
  readonly alreadyRunning: boolean;
  readonly seconds: number;
}

/**
 * Starts the server in the background and returns once an authenticated Bolt query works.
 * Idempotent: a running server is reported, not started twice.
 */
export async function start(s: Neo4jServerSettings, progress: Progress): Promise<StartResult> {
  const begin = Date.now();
  const current = await status(s);
  if (current.running) return { ...current, alreadyRunning: true, seconds: 0 };
  if (current.pid !== undefined) {
    throw new AppError(
      ErrorCode.TOOL_FAILED,
      `a Neo4j process (pid ${current.pid}) runs from ${s.homeDir} but does not accept NEO4J_PASSWORD on ` +
        `${boltUri(s)}; run \`pnpm neo4j stop\` first, or set the password this home was created with`,
    );
  }
  await ensurePortsFree(s);
  checkJava(s);
  ensureJars(s, progress);
  prepareHome(s, progress);

  progress(`starting Neo4j ${NEO4J_VERSION} (home ${s.homeDir})`);
  const server = spawnServer(s);
  await awaitBolt(s, server, begin);
  const seconds = (Date.now() - begin) / 1000;
  return {
    running: true,
    pid: server.pid,
    boltUri: boltUri(s),
    httpUrl: httpUrl(s),
    alreadyRunning: false,
    seconds,
  };
}

/** Stops the server (SIGTERM, then SIGKILL after a minute). Returns false when none ran. */
export async function stop(s: Neo4jServerSettings, progress: Progress): Promise<boolean> {
  const pid = readPid(s);
  if (pid === undefined || !isNeo4jProcess(pid)) {
    rmSync(pidFile(s), { force: true });
    return false;
  }
  progress(`stopping Neo4j (pid ${pid})`);
  await endPid(pid, "SIGTERM", STOP_TIMEOUT_MS, () => {
    progress("Neo4j did not stop within a minute; killing it");
  });
  rmSync(pidFile(s), { force: true });
  return true;
}

/** Stops the server if needed and deletes its data, leaving the jar cache. */
export async function destroy(s: Neo4jServerSettings): Promise<void> {
  await stop(s, () => undefined);
  rmSync(resolve(s.homeDir), { recursive: true, force: true });
}
