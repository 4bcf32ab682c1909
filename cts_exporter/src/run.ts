import type { Writable } from "node:stream";
import {
  createLogger,
  ErrorCode,
  exportPromRegistry,
  isAppError,
  telemetryActive,
  type Env,
  type Logger,
} from "@cts/shared";
import { createHttpTransport } from "./adapters/http-transport.js";
import { createDeadLetterFile } from "./adapters/dead-letter-file.js";
import { createTokenFile } from "./adapters/oidc-token.js";
import { createDryRunTransport, createLogOnlyTransport } from "./adapters/local-transports.js";
import { createMetrics } from "./adapters/metrics.js";
import { startOpsServer } from "./adapters/ops-server.js";
import { systemClock } from "./adapters/clock.js";
import { readState, writeState } from "./adapters/state-file.js";
import { parseExporterConfig, type ExporterConfig } from "./config.js";
import type { CycleSummary, PollState } from "./core/cycle.js";
import { runPoller } from "./core/poller.js";
import type { Clock, EventTransport } from "./core/ports.js";
import { SeenIds } from "./core/seen-ids.js";
import { RETENTION_MS } from "./core/window.js";
import { createOtcClient, loadCloudConfig, type OtcClient } from "./otc/index.js";
import { traceCycle } from "./telemetry.js";

/** Exit codes (docs/event-contract.md section 4). */
export const EXIT = { ok: 0, undelivered: 1, config: 78, cloud: 70 } as const;

interface RunOptions {
  readonly env: Env;
  readonly argv: readonly string[];
  /** Where `--dry-run` writes events. */
  readonly stdout: Writable;
  /** Where JSON log lines go (stdout normally, stderr with --dry-run). */
  readonly logDestination?: Writable;
  /** Aborted on SIGTERM/SIGINT. */
  readonly signal: AbortSignal;
  readonly clock?: Clock;
  /** How long in-flight sends may take after the signal before they are abandoned. */
  readonly shutdownGraceMs?: number;
}

const SHUTDOWN_GRACE_MS = 10_000;
/** Caps the seen-id set (about 100 bytes an id); beyond it the oldest go, risking only a duplicate. */
const SEEN_IDS_LIMIT = 500_000;
/** What the state file keeps of the seen ids; beyond it a restart may resend a few duplicates. */
const SAVED_SEEN_LIMIT = 200_000;
/** The longest span one listing covers; a longer backlog is read and committed in pieces. */
const MAX_SPAN_MS = 60 * 60_000;

function buildTransport(
  config: ExporterConfig,
  logger: Logger,
  stdout: Writable,
): EventTransport & { close?(): Promise<void> } {
  if (config.dryRun) return createDryRunTransport(stdout);
  if (!config.push || config.sink === undefined) return createLogOnlyTransport(logger);
  return createHttpTransport({
    sink: config.sink,
    mode: config.mode,
    timeoutMs: config.sinkTimeoutMs,
    connections: config.concurrency,
    caCerts: config.caCerts,
    bearerToken: createTokenFile(config.oidcTokenFile),
  });
}

async function restoreState(context: {
  config: ExporterConfig;
  client: OtcClient;
  logger: Logger;
  now: number;
}): Promise<PollState> {
  const { config, client, logger, now } = context;
  const state: PollState = { checkpoint: undefined, seen: new SeenIds(SEEN_IDS_LIMIT) };
  if (config.stateFile === undefined) return state;
  const saved = await readState(config.stateFile);
  if (saved === undefined) {
    logger.info(
      { stateFile: config.stateFile },
      "no checkpoint yet; first cycle looks back CTS_FROM minutes",
    );
    return state;
  }
  if (saved.source !== client.origin.source || saved.tracker !== config.tracker) {
    logger.warn(
      { stateFile: config.stateFile, savedSource: saved.source, source: client.origin.source },
      "checkpoint belongs to another project or tracker; starting afresh",
    );
    return state;
  }
  if (saved.checkpoint !== undefined && saved.checkpoint < now - RETENTION_MS) {
    logger.warn(
      { checkpoint: new Date(saved.checkpoint).toISOString() },
      "checkpoint older than CTS retention (7 days); traces before it are gone",
    );
  }
  state.checkpoint = saved.checkpoint;
  state.start = saved.start;
  for (const [id, time] of saved.seen) state.seen.add(id, time);
  logger.info(
    {
      checkpoint: saved.checkpoint === undefined ? null : new Date(saved.checkpoint).toISOString(),
      seen: saved.seen.length,
    },
    "resuming from checkpoint",
  );
  return state;
}

function logSummary(logger: Logger, summary: CycleSummary): void {
  const fields = {
    window: {
      from: new Date(summary.window.from).toISOString(),
      to: new Date(summary.window.to).toISOString(),
    },
    collected: summary.collected,
    sent: summary.sent,
    failed: summary.failed,
    rejected: summary.rejected,
    duplicatesSkipped: summary.duplicates,
    lagSeconds: summary.lagMs === undefined ? null : Math.round(summary.lagMs / 1000),
    durationMs: summary.durationMs,
    checkpoint:
      summary.checkpoint === undefined ? null : new Date(summary.checkpoint).toISOString(),
    ...(summary.error === undefined ? {} : { error: summary.error }),
  };
  if (summary.ok) logger.info(fields, "cycle finished");
  else logger.warn(fields, "cycle incomplete; checkpoint kept, the next cycle retries");
}

/**
 * The whole exporter: configuration, cloud client, state, ops server and the poll loop.
 * Returns the process exit code; never calls process.exit, so tests can run it in-process.
 */
export async function runExporter(options: RunOptions): Promise<number> {
  const clock = options.clock ?? systemClock;
  let config: ExporterConfig;
  const bootLogger = createLogger({
    name: "cts_exporter",
    destination: options.logDestination ?? process.stdout,
  });
  try {
    config = parseExporterConfig(options.env, options.argv);
  } catch (error) {
    bootLogger.fatal(
      { code: isAppError(error) ? error.code : "INTERNAL" },
      (error as Error).message,
    );
    return EXIT.config;
  }
  const logger = createLogger({
    name: "cts_exporter",
    level: config.debug ? "debug" : "info",
    destination: options.logDestination ?? (config.dryRun ? process.stderr : process.stdout),
  });

  let client: OtcClient;
  const metrics = createMetrics(() => clock.now());
  exportPromRegistry(metrics.registry);
  try {
    const cloud = loadCloudConfig(options.env);
    client = await createOtcClient(cloud, {
      logger,
      now: () => clock.now(),
      ...(config.ctsEndpoint === undefined ? {} : { ctsEndpoint: config.ctsEndpoint }),
      onInvalidTrace: () => {
        metrics.invalidTrace();
      },
    });
  } catch (error) {
    const code = isAppError(error) ? error.code : ErrorCode.INTERNAL;
    logger.fatal({ code }, (error as Error).message);
    return code === ErrorCode.CONFIG_INVALID ? EXIT.config : EXIT.cloud;
  }

  let state: PollState;
  try {
    state = await restoreState({ config, client, logger, now: clock.now() });
  } catch (error) {
    logger.fatal({ code: isAppError(error) ? error.code : "INTERNAL" }, (error as Error).message);
    return EXIT.config;
  }

  const transport = buildTransport(config, logger, options.stdout);
  let lastOk: boolean | undefined;
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  if (!config.once) {
    try {
      ops = await startOpsServer({
        port: config.port,
        health: { ready: () => lastOk !== false },
        registry: metrics.registry,
      });
    } catch (error) {
      await transport.close?.();
      logger.fatal(
        { code: ErrorCode.CONFIG_INVALID },
        `cannot serve /healthz on PORT ${config.port}: ${(error as Error).message}; choose a free PORT`,
      );
      return EXIT.config;
    }
  }

  logger.info(
    {
      source: client.origin.source,
      region: client.origin.region,
      project: client.origin.projectId,
      auth: client.authMethod,
      tracker: config.tracker,
      intervalMinutes: config.fromMinutes,
      overlapMinutes: config.overlapMinutes,
      sink: config.dryRun
        ? "stdout (dry run)"
        : config.push
          ? config.sink?.origin
          : "none (CTS_X_PNP=false)",
      mode: transport.mode,
      stateFile: config.stateFile ?? null,
      deadLetterFile: config.deadLetterFile ?? null,
      openTelemetry: telemetryActive(),
    },
    "cts_exporter started",
  );

  const hardStop = new AbortController();
  const onStop = () => {
    logger.info(
      { graceMs: options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS },
      "stopping: no new polls, finishing in-flight sends",
    );
    setTimeout(() => {
      hardStop.abort();
    }, options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS).unref();
  };
  options.signal.addEventListener("abort", onStop, { once: true });

  const delivers = config.push && !config.dryRun;
  // A dry run or CTS_X_PNP=false delivers nothing: saving its checkpoint would make the next
  // real run skip every trace it only printed or logged.
  const saveState = async () => {
    if (config.stateFile === undefined || !delivers) return;
    const seen = state.seen.entries().slice(-SAVED_SEEN_LIMIT);
    await writeState(config.stateFile, {
      checkpoint: state.checkpoint,
      start: state.start,
      source: client.origin.source,
      tracker: config.tracker,
      seen,
    });
  };
  const deadLetters =
    config.deadLetterFile === undefined || !delivers
      ? undefined
      : createDeadLetterFile(config.deadLetterFile, () => clock.now());
  const intervalMs = (config.pollIntervalSeconds ?? config.fromMinutes * 60) * 1000;
  try {
    const last = await runPoller(
      {
        source: client,
        transport,
        metrics,
        clock,
        logger,
        deadLetters,
        ...(telemetryActive()
          ? { traceCycle: (run: () => Promise<CycleSummary>) => traceCycle(config.tracker, run) }
          : {}),
      },
      state,
      {
        tracker: config.tracker,
        window: {
          lookbackMs: config.fromMinutes * 60_000,
          overlapMs: config.overlapMinutes * 60_000,
          maxSpanMs: MAX_SPAN_MS,
        },
        retry: {
          maxAttempts: config.retryAttempts,
          baseDelayMs: config.retryBaseMs,
          maxDelayMs: config.retryMaxMs,
          // A sink's Retry-After is a floor, but no longer than the backoff cap.
          maxRetryAfterMs: config.retryMaxMs,
        },
        concurrency: config.concurrency,
        batchSize: config.batchSize,
        overrides: config.overrides,
        intervalMs,
        failureRetryMs: 30_000,
        once: config.once,
        signal: options.signal,
        deliverySignal: hardStop.signal,
        onCommit: saveState,
        onCycle: async (summary) => {
          lastOk = summary.ok;
          logSummary(logger, summary);
          await saveState();
        },
      },
    );
    if (config.once) return last.allDelivered ? EXIT.ok : EXIT.undelivered;
    return EXIT.ok;
  } finally {
    options.signal.removeEventListener("abort", onStop);
    await transport.close?.();
    await deadLetters?.close();
    await ops?.close();
    logger.info("cts_exporter stopped");
  }
}
