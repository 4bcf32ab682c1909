import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { REPO_ROOT, startProcess, type ManagedProcess } from "@cts/devkit";
import type { BenchNeo4j } from "./bench-neo4j.js";
import { onInterrupt } from "./cleanup.js";
import { log } from "./progress.js";

const run = promisify(execFile);

/**
 * The original Go project (akyriako/cloudtrace-exporter) at the commit the project's design
 * documents were written against. The benchmark builds exactly this commit, unmodified.
 */
export const ORIGINAL_COMMIT = "5f2cde1c9e0872d4c73cb0ca36e025a73822428f";
/** Where the source is looked for when neither --original-src nor ORIGINAL_SRC says otherwise. */
export const DEFAULT_ORIGINAL_SRC = "/work/.mirror/akyriako+cloudtrace-exporter/repo";
/** Its sink listens on this port and has no setting to change it (cloudevents sdk-go's default). */
export const ORIGINAL_PORT = 8080;
/** The files the sink is built from; the rest of the repository (deploy, assets) is not needed. */
const SOURCE_PATHS = ["cmd", "pkg", "go.mod", "go.sum"];
const CACHE_DIR = join(REPO_ROOT, "bench", ".cache", `original-${ORIGINAL_COMMIT.slice(0, 7)}`);

/** A built original sink: the binary and what it was built with. */
export interface OriginalBuild {
  readonly binary: string;
  readonly commit: string;
  readonly goVersion: string;
}

async function git(src: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run("git", ["-C", src, ...args], { maxBuffer: 1 << 20 });
  return stdout.trim();
}

/**
 * Builds `cmd/neo4j_sink` of the original from `src` (a clone or a bare mirror of it) into
 * bench/.cache with the installed Go, module dependencies from the Go module proxy as pinned by
 * its go.sum (-mod=readonly: nothing is re-resolved). Refuses a source whose checked-out commit
 * is not ORIGINAL_COMMIT, so the figure always belongs to the same code. Reuses an earlier
 * build of the same commit with the same Go.
 */
export async function buildOriginalSink(src: string): Promise<OriginalBuild> {
  if (!existsSync(src)) {
    throw new Error(
      `the original's source is not at ${src}: clone https://github.com/akyriako/cloudtrace-exporter ` +
        `there (commit ${ORIGINAL_COMMIT}) or point ORIGINAL_SRC / --original-src at a clone`,
    );
  }
  const head = await git(src, ["rev-parse", "HEAD"]).catch((error: unknown) => {
    throw new Error(`${src} is not a git repository of the original: ${String(error)}`);
  });
  if (head !== ORIGINAL_COMMIT) {
    throw new Error(
      `${src} has commit ${head} checked out; the benchmark measures the original at ` +
        `${ORIGINAL_COMMIT} only (git -C ${src} checkout ${ORIGINAL_COMMIT})`,
    );
  }
  const goVersion = await run("go", ["env", "GOVERSION"]).then(
    ({ stdout }) => stdout.trim(),
    (error: unknown) => {
      throw new Error(`building the original needs Go (go env GOVERSION failed: ${String(error)})`);
    },
  );
  const binary = join(CACHE_DIR, "neo4j_sink");
  const stamp = join(CACHE_DIR, "built-with");
  const wanted = `${ORIGINAL_COMMIT} ${goVersion}`;
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) {
    return { binary, commit: head, goVersion };
  }
  log(`original: building cmd/neo4j_sink of ${ORIGINAL_COMMIT.slice(0, 7)} with ${goVersion}`);
  const sourceDir = join(CACHE_DIR, "src");
  rmSync(CACHE_DIR, { recursive: true, force: true });
  mkdirSync(sourceDir, { recursive: true });
  // The commit's tree, not the work tree: a local edit can never sneak into the build.
  const archive = join(CACHE_DIR, "src.tar");
  await git(src, ["archive", "-o", archive, ORIGINAL_COMMIT, ...SOURCE_PATHS]);
  await run("tar", ["-xf", archive, "-C", sourceDir]);
  try {
    await run("go", ["build", "-mod=readonly", "-trimpath", "-o", binary, "./cmd/neo4j_sink"], {
      cwd: sourceDir,
      env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly -buildvcs=false" },
      maxBuffer: 16 << 20,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`go build of the original's cmd/neo4j_sink failed:\n${stderr.slice(-4000)}`, {
      cause: error,
    });
  }
  writeFileSync(stamp, `${wanted}\n`);
  return { binary, commit: head, goVersion };
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => {
      resolve(false);
    });
    server.listen(port, () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

async function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      resolve(false);
    });
  });
}

/** A running original sink. */
export interface OriginalSinkProcess {
  readonly url: string;
  readonly pid: number | undefined;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the original sink unmodified: its only settings are NEO4J_URI, NEO4J_USER and
 * NEO4J_PASSWORD, and it always listens on :8080, so that port must be free.
 */
export async function startOriginalSink(
  build: OriginalBuild,
  db: BenchNeo4j,
): Promise<OriginalSinkProcess> {
  if (!(await portIsFree(ORIGINAL_PORT))) {
    throw new Error(
      `port ${ORIGINAL_PORT} is in use; the original sink can only listen there (stop whatever holds it)`,
    );
  }
  const child: ManagedProcess = startProcess({
    name: "original neo4j_sink",
    command: build.binary,
    args: [],
    env: { NEO4J_URI: db.uri, NEO4J_USER: db.user, NEO4J_PASSWORD: db.password },
  });
  const forget = onInterrupt(() => child.stop("SIGKILL"));
  const deadline = Date.now() + 60_000;
  while (!(await acceptsConnections(ORIGINAL_PORT))) {
    const exited = child.child.exitCode !== null || child.child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      await child.stop("SIGKILL");
      forget();
      throw new Error(
        `the original sink did not start listening on :${ORIGINAL_PORT}` +
          `${exited ? " (it exited)" : ""}\n${child.output().slice(-2000)}`,
      );
    }
    await sleep(100);
  }
  return {
    url: `http://127.0.0.1:${ORIGINAL_PORT}/`,
    pid: child.child.pid,
    output: () => child.output(),
    async stop() {
      // It has no graceful shutdown: SIGTERM ends it at once, which is fine once its graph is complete.
      await child.stop("SIGTERM", 5_000);
      forget();
    },
  };
}
