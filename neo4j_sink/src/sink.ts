import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Driver } from "neo4j-driver";
import { collectDefaultMetrics, Registry } from "prom-client";
import { createLogger, ErrorCode, exportPromRegistry, isAppError, type Logger } from "@cts/shared";
import { createGraphStore } from "./adapters/graph-store.js";
import { createApp } from "./adapters/http-app.js";
import { createDriver, verifyConnection } from "./adapters/neo4j-connection.js";
import { createPromMetrics } from "./adapters/prom-metrics.js";
import { createSenderVerifier } from "./adapters/sender-identity.js";
import { SINK_DEFAULTS, type Neo4jConnectionConfig, type SinkConfig } from "./config.js";
import { createBatchWriter } from "./core/batch-writer.js";
import { writeTracer } from "./telemetry.js";

/** `startSink`'s configuration: the Neo4j connection, everything else optional. */
export type StartSinkConfig = Partial<Omit<SinkConfig, "neo4j">> & {
  readonly neo4j: Omit<Neo4jConnectionConfig, "user" | "database"> &
    Partial<Pick<Neo4jConnectionConfig, "user" | "database">>;
};

/** Collaborators a caller may bring (tests, the demo); the sink creates what is missing. */
interface SinkDeps {
  readonly logger?: Logger;
  /** A driver the caller owns; the sink then does not close it. */
  readonly driver?: Driver;
  readonly registry?: Registry;
}

/** A listening sink. */
export interface RunningSink {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, writes what is queued, answers in-flight requests, closes the driver. */
  close(): Promise<void>;
}

const PROBE_INTERVAL_MS = 1_000;
const SHUTDOWN_GRACE_MS = 10_000;

/** Waits until Neo4j accepts our credentials; fails at once on bad credentials. */
async function waitForNeo4j(
  driver: Driver,
  config: Neo4jConnectionConfig,
  context: { timeoutMs: number; logger: Logger },
): Promise<void> {
  const deadline = Date.now() + context.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await verifyConnection(driver, config);
      return;
    } catch (error) {
      const retry =
        isAppError(error) && error.code === ErrorCode.NEO4J_UNAVAILABLE && Date.now() < deadline;
      if (!retry) throw error;
      if (attempt === 1) {
        context.logger.warn({ uri: config.uri }, "Neo4j not reachable yet; waiting for it");
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }
}

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes the server: in-flight requests finish, idle keep-alive connections are closed. */
async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  const sweep = setInterval(() => {
    server.closeIdleConnections();
  }, 100);
  const deadline = setTimeout(() => {
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}

/**
 * Starts the sink in-process: verifies Neo4j (bad credentials fail with NEO4J_AUTH_FAILED,
 * an unreachable server with NEO4J_UNAVAILABLE after `startupTimeoutMs`), creates the schema,
 * then listens. Used by `main.ts` and the sink's integration tests, which run it in-process.
 */
export async function startSink(
  config: StartSinkConfig,
  deps: SinkDeps = {},
): Promise<RunningSink> {
  const settings = { ...SINK_DEFAULTS, ...config };
  const neo4jConfig: Neo4jConnectionConfig = {
    uri: config.neo4j.uri,
    password: config.neo4j.password,
    user: config.neo4j.user ?? "neo4j",
    database: config.neo4j.database,
  };
  const logger = deps.logger ?? createLogger({ name: "neo4j_sink", level: settings.logLevel });
  const driver = deps.driver ?? createDriver(neo4jConfig);
  const ownsDriver = deps.driver === undefined;
  try {
    await waitForNeo4j(driver, neo4jConfig, { timeoutMs: settings.startupTimeoutMs, logger });
    const store = createGraphStore(driver, neo4jConfig, {
      maxBatchEvents: settings.batchMaxEvents,
      logger,
    });
    await store.ensureSchema();
    const registry = deps.registry ?? new Registry();
    if (deps.registry === undefined)
      collectDefaultMetrics({ register: registry, prefix: "neo4j_sink_" });
    const metrics = createPromMetrics(registry);
    exportPromRegistry(registry);
    const writer = createBatchWriter({
      store,
      logger,
      metrics,
      lingerMs: settings.batchLingerMs,
      maxBatchEvents: settings.batchMaxEvents,
      maxQueuedEvents: settings.queueMaxEvents,
      probeIntervalMs: PROBE_INTERVAL_MS,
      tracer: writeTracer,
    });
    const app = createApp({
      writer,
      logger,
      metrics,
      registry,
      maxBodyBytes: settings.maxBodyBytes,
      maxTextChars: settings.maxTextChars,
      retryAfterSeconds: settings.retryAfterSeconds,
      ...(settings.senderIdentity === undefined
        ? {}
        : { verifySender: createSenderVerifier(settings.senderIdentity) }),
    });
    const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 120_000 }, app);
    const port = await listen(server, settings.port, settings.host);
    const host =
      settings.host === undefined || settings.host === "0.0.0.0" ? "127.0.0.1" : settings.host;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
      port,
      close: () =>
        (closing ??= (async () => {
          const serverClosed = closeServer(server);
          await writer.close();
          await serverClosed;
          if (ownsDriver) await driver.close();
        })()),
    };
  } catch (error) {
    if (ownsDriver) await driver.close();
    throw error;
  }
}
