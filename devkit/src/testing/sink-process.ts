import { freePort, waitForHttp, type ManagedProcess } from "./processes.js";
import { startService } from "./service-process.js";

/** The Neo4j a sink process writes to. */
export interface SinkNeo4j {
  readonly uri: string;
  readonly user: string;
  readonly password: string;
}

/** How to run the sink process. */
export interface SinkProcessOptions {
  /** Variables on top of the connection and the port (SINK_*, LOG_LEVEL, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node flags before the entry point, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** How long the sink may take to answer /readyz (it creates the schema first). */
  readonly readyTimeoutMs?: number;
}

/** A running `neo4j_sink` process on a loopback port. */
export interface SinkProcess {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/**
 * Starts `neo4j_sink/src/main.ts` from the TypeScript sources as its own process, as
 * `pnpm start:sink` runs it, and waits for /readyz. The child gets only PATH, HOME, the Neo4j
 * connection, PORT, SINK_HOST and `options.env`: nothing of the caller's NEO4J_* leaks in.
 */
export async function startSinkProcess(
  neo4j: SinkNeo4j,
  options: SinkProcessOptions = {},
): Promise<SinkProcess> {
  const port = await freePort();
  const child = startService("neo4j_sink", {
    nodeArgs: options.nodeArgs ?? [],
    env: {
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: neo4j.user,
      NEO4J_PASSWORD: neo4j.password,
      PORT: String(port),
      SINK_HOST: "127.0.0.1",
      ...options.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/readyz`, {
      process: child,
      timeoutMs: options.readyTimeoutMs ?? 60_000,
    });
  } catch (error) {
    await child.stop("SIGKILL");
    throw error;
  }
  const pid = child.child.pid;
  if (pid === undefined) throw new Error("the neo4j_sink process has no pid");
  return { process: child, pid, port, url };
}
