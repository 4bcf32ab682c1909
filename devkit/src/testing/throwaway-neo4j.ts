import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boltUri, start, stop } from "../neo4j/server.js";
import { settingsFromEnv, type Neo4jServerSettings } from "../neo4j/settings.js";
import { endPid, freePort } from "./processes.js";

/** A private Neo4j server for tests that stop and restart it (outages) without touching others. */
export interface ThrowawayNeo4j {
  readonly uri: string;
  readonly user: string;
  readonly password: string;
  readonly settings: Neo4jServerSettings;
  /** Starts the server again after `stop()`, with the same data, ports and password. */
  start(): Promise<void>;
  /** Stops the server (SIGTERM; the data stays). */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL), as a crash or a lost node would; the data stays. */
  kill(): Promise<void>;
  /** Stops the server and deletes its home directory. Safe to call twice. */
  destroy(): Promise<void>;
}

interface ThrowawayNeo4jOptions {
  /** Default 512m: enough for tests, small next to the shared test server. */
  readonly heapSize?: string;
  readonly pageCacheSize?: string;
  /** Lines of progress (downloads, start, stop); silent by default. */
  readonly progress?: (line: string) => void;
}

const PASSWORD = "throwaway-neo4j";

/**
 * Starts a private Neo4j on free ports with its data in a fresh temporary directory, using the
 * same jars and start/stop code as `pnpm neo4j`. Stopping it never disturbs the shared test
 * server. Always call `destroy()` (in `after()`), also when the test fails.
 */
export async function startThrowawayNeo4j(
  options: ThrowawayNeo4jOptions = {},
): Promise<ThrowawayNeo4j> {
  const homeDir = mkdtempSync(join(tmpdir(), "cts-neo4j-"));
  const [boltPort, httpPort] = [await freePort(), await freePort()];
  const settings = settingsFromEnv(
    {
      NEO4J_HOME_DIR: homeDir,
      NEO4J_BOLT_PORT: String(boltPort),
      NEO4J_HTTP_PORT: String(httpPort),
      NEO4J_PASSWORD: PASSWORD,
      NEO4J_HEAP_SIZE: options.heapSize ?? "512m",
      NEO4J_PAGECACHE_SIZE: options.pageCacheSize ?? "128m",
      NEO4J_JAVA_HOME: process.env["NEO4J_JAVA_HOME"] ?? process.env["JAVA_HOME"],
    },
    { homeDir },
  );
  const progress = options.progress ?? (() => undefined);
  let destroyed = false;
  const stopServer = async () => {
    await stop(settings, progress);
  };
  const killServer = async () => {
    let pid: number;
    try {
      pid = Number(readFileSync(join(homeDir, "run", "server.pid"), "utf8").trim());
    } catch {
      return;
    }
    await endPid(pid, "SIGKILL", 10_000);
  };
  try {
    await start(settings, progress);
  } catch (error) {
    await stopServer().catch(() => undefined);
    rmSync(homeDir, { recursive: true, force: true });
    throw error;
  }
  return {
    uri: boltUri(settings),
    user: "neo4j",
    password: PASSWORD,
    settings,
    start: async () => {
      await start(settings, progress);
    },
    stop: stopServer,
    kill: killServer,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      // The data is thrown away, so there is nothing to shut down cleanly.
      await killServer();
      await stopServer();
      rmSync(homeDir, { recursive: true, force: true });
    },
  };
}
