import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import neo4j, { type Driver } from "neo4j-driver";
import { neo4jServer, resetDatabase, startThrowawayNeo4j, type ThrowawayNeo4j } from "@cts/devkit";
import { createGraphStore } from "@cts/neo4j_sink";
import { onInterrupt } from "./cleanup.js";
import { log } from "./progress.js";

/** The Neo4j a benchmark run writes to, and what the report says about it. */
export interface BenchNeo4j {
  readonly uri: string;
  readonly user: string;
  readonly password: string;
  readonly driver: Driver;
  /** e.g. "5.26.30 community". */
  readonly version: string;
  /** Heap and page cache of a server started for the run; undefined for NEO4J_URI's. */
  readonly memory: { readonly heap: string; readonly pageCache: string } | undefined;
  /** The server's process id when it runs here, for CPU accounting. */
  readonly pid: number | undefined;
  /** Deletes every node, relationship, constraint and index. */
  reset(): Promise<void>;
  /** The sink's constraints and indexes, exactly as the sink creates them at start. */
  createSinkSchema(): Promise<void>;
  count(label: string): Promise<number>;
  /** Size of the database's store files in MiB (a server started for the run only). */
  storeMiB(): number | undefined;
  close(): Promise<void>;
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

interface BenchNeo4jOptions {
  readonly heapSize: string;
  readonly pageCacheSize: string;
}

async function versionOf(driver: Driver): Promise<string> {
  const result = await driver.executeQuery(
    "CALL dbms.components() YIELD versions, edition RETURN versions[0] AS version, edition",
  );
  const record = result.records[0];
  return record === undefined
    ? "unknown"
    : `${String(record.get("version"))} ${String(record.get("edition"))}`;
}

/**
 * A Neo4j for the run: NEO4J_URI + NEO4J_PASSWORD when both are set (its data is deleted!),
 * otherwise a private server on free ports with a bigger heap and page cache than the tests
 * use, so the database is not what a 500k-action graph is measured against.
 */
export async function openBenchNeo4j(options: BenchNeo4jOptions): Promise<BenchNeo4j> {
  const externalUri = process.env["NEO4J_URI"];
  const externalPassword = process.env["NEO4J_PASSWORD"];
  let server: ThrowawayNeo4j | undefined;
  let uri: string;
  let user: string;
  let password: string;
  if (externalUri !== undefined && externalUri !== "" && externalPassword !== undefined) {
    log(
      `WARNING: using NEO4J_URI=${externalUri}; ALL ITS DATA, CONSTRAINTS AND INDEXES WILL BE DELETED`,
    );
    uri = externalUri;
    user = process.env["NEO4J_USER"] ?? "neo4j";
    password = externalPassword;
  } else {
    log(
      `starting a Neo4j for the run (heap ${options.heapSize}, page cache ${options.pageCacheSize})`,
    );
    server = await startThrowawayNeo4j({
      heapSize: options.heapSize,
      pageCacheSize: options.pageCacheSize,
      progress: (line) => {
        log(`  neo4j: ${line}`);
      },
    });
    ({ uri, user, password } = server);
    const started = server;
    onInterrupt(() => started.destroy());
  }
  const driver = neo4j.driver(uri, neo4j.auth.basic(user, password), {
    logging: { level: "error", logger: () => undefined },
  });
  try {
    await driver.verifyConnectivity();
    const version = await versionOf(driver);
    // For NEO4J_URI's server, BENCH_NEO4J_PID (optional) lets the report show its CPU use too.
    const externalPid = Number(process.env["BENCH_NEO4J_PID"]) || undefined;
    const pid =
      server === undefined ? externalPid : (await neo4jServer.status(server.settings)).pid;
    const config = { uri, user, password, database: undefined };
    return {
      uri,
      user,
      password,
      driver,
      version,
      memory:
        server === undefined
          ? undefined
          : { heap: options.heapSize, pageCache: options.pageCacheSize },
      pid,
      reset: () => resetDatabase(driver),
      createSinkSchema: () => createGraphStore(driver, config).ensureSchema(),
      async count(label) {
        const result = await driver.executeQuery(`MATCH (n:\`${label}\`) RETURN count(n) AS n`);
        return Number(result.records[0]?.get("n") ?? 0);
      },
      storeMiB() {
        if (server === undefined) return undefined;
        const store = join(server.settings.homeDir, "data", "databases", "neo4j");
        return Math.round(directoryBytes(store) / 1024 / 1024);
      },
      async close() {
        await driver.close();
        await server?.destroy();
      },
    };
  } catch (error) {
    await driver.close();
    await server?.destroy();
    throw error;
  }
}
