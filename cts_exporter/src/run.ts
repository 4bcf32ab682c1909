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
import { readStates, writeStates, type SavedState } from "./adapters/state-file.js";
import { parseExporterConfig, type ExporterConfig } from "./config.js";
import type { CycleSummary, PollState } from "./core/cycle.js";
import { runPoller } from "./core/poller.js";
import type { Clock, EventTransport } from "./core/ports.js";
import { SeenIds } from "./core/seen-ids.js";
import { RETENTION_MS } from "./core/window.js";
import { loadCloudConfig, type CloudConfig } from "./cloud-config/index.js";
import { createOtcClient, forProject, type OtcClient, type OtcClientOptions } from "./otc/index.js";
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

/** One polled project: its CTS client, its own state, logger and metrics. */
interface Target {
  readonly client: OtcClient;
  readonly state: PollState;
  readonly logger: Logger;
  lastOk: boolean | undefined;
}

function restoreState(context: {
  config: ExporterConfig;
  client: OtcClient;
  saved: readonly SavedState[] | undefined;
  logger: Logger;
  now: number;
}): PollState {
  const { config, client, logger, now } = context;
  const state: PollState = { checkpoint: undefined, seen: new SeenIds(SEEN_IDS_LIMIT) };
  if (config.stateFile === undefined) return state;
  if (context.saved === undefined) {
    logger.info(
      { stateFile: config.stateFile },
      "no checkpoint yet; first cycle looks back CTS_FROM minutes",
    );
    return state;
  }
  const saved = context.saved.find(
    (entry) => entry.source === client.origin.source && entry.tracker === config.tracker,
  );
  if (saved === undefined) {
    logger.warn(
      {
        stateFile: config.stateFile,
        savedSources: context.saved.map((entry) => entry.source),
        source: client.origin.source,
      },
      "no checkpoint for this project and tracker; starting afresh",
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

/**
 * The clients to poll: the clouds.yaml project, or each project CTS_PROJECTS names (`all`:
 * every project IAM lists for the credentials), each authenticated and scoped on its own.
 */
async function createClients(
  config: ExporterConfig,
  cloud: CloudConfig,
  options: OtcClientOptions,
): Promise<OtcClient[]> {
  const base = await createOtcClient(cloud, options);
  if (config.projects === undefined) return [base];
  const wanted =
    config.projects === "all"
      ? (await base.accessibleProjects()).map((project) => project.name)
      : config.projects;
  const clients: OtcClient[] = [];
  for (const project of wanted) {
    const same = project === base.origin.projectId || project === cloud.projectName;
    clients.push(same ? base : await createOtcClient(forProject(cloud, project), options));
  }
  return clients;
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

  let clients: OtcClient[];
  const metrics = createMetrics(() => clock.now());
  exportPromRegistry(metrics.registry);
  try {
    const cloud = loadCloudConfig(options.env);
    clients = await createClients(config, cloud, {
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
  if (clients.length === 0) {
    logger.fatal(
      { code: ErrorCode.CONFIG_INVALID },
      "CTS_PROJECTS=all found no project these credentials can use; name the projects instead",
    );
    return EXIT.config;
  }

  const multi = config.projects !== undefined;
  let targets: Target[];
  try {
    const saved = config.stateFile === undefined ? undefined : await readStates(config.stateFile);
    targets = clients.map((client) => {
      const projectLogger = multi
        ? logger.child({ project: client.origin.projectId, region: client.origin.region })
        : logger;
      return {
        client,
        logger: projectLogger,
        state: restoreState({ config, client, saved, logger: projectLogger, now: clock.now() }),
        lastOk: undefined,
      };
    });
  } catch (error) {
    logger.fatal({ code: isAppError(error) ? error.code : "INTERNAL" }, (error as Error).message);
    return EXIT.config;
  }

  const transport = buildTransport(config, logger, options.stdout);
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  if (!config.once) {
    try {
      ops = await startOpsServer({
        port: config.port,
        // Red while any project's last cycle failed; the others keep polling meanwhile.
        health: { ready: () => targets.every((target) => target.lastOk !== false) },
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
      projects: targets.map(({ client }) => ({
        source: client.origin.source,
        region: client.origin.region,
        project: client.origin.projectId,
      })),
      auth: targets[0]?.client.authMethod,
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
  // Every project's entry in one file; saves run one after another, never interleaved.
  let saving: Promise<void> = Promise.resolve();
  const saveState = () => {
    const stateFile = config.stateFile;
    if (stateFile === undefined || !delivers) return Promise.resolve();
    const save = saving.then(() =>
      writeStates(
        stateFile,
        targets.map(({ client, state }) => ({
          checkpoint: state.checkpoint,
          start: state.start,
          source: client.origin.source,
          tracker: config.tracker,
          seen: state.seen.entries().slice(-Math.floor(SAVED_SEEN_LIMIT / targets.length)),
        })),
      ),
    );
    saving = save.catch(() => undefined);
    return save;
  };
  const deadLetters =
    config.deadLetterFile === undefined || !delivers
      ? undefined
      : createDeadLetterFile(config.deadLetterFile, () => clock.now());
  const intervalMs = (config.pollIntervalSeconds ?? config.fromMinutes * 60) * 1000;
  const pollOptions = {
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
  };
  try {
    // One poll loop per project, side by side: a project whose cycles fail (CTS refuses it,
    // its events are refused) keeps its own checkpoint and backs off alone.
    const lasts = await Promise.all(
      targets.map((target) => {
        const projectMetrics = multi
          ? metrics.forProject({
              project: target.client.origin.projectId,
              region: target.client.origin.region,
            })
          : metrics;
        return runPoller(
          {
            source: target.client,
            transport,
            metrics: projectMetrics,
            clock,
            logger: target.logger,
            deadLetters,
            ...(telemetryActive()
              ? {
                  traceCycle: (run: () => Promise<CycleSummary>) => traceCycle(config.tracker, run),
                }
              : {}),
          },
          target.state,
          {
            ...pollOptions,
            onCycle: async (summary) => {
              target.lastOk = summary.ok;
              logSummary(target.logger, summary);
              await saveState();
            },
          },
        );
      }),
    );
    if (config.once) return lasts.every((last) => last.allDelivered) ? EXIT.ok : EXIT.undelivered;
    return EXIT.ok;
  } finally {
    options.signal.removeEventListener("abort", onStop);
    await transport.close?.();
    await deadLetters?.close();
    await ops?.close();
    logger.info("cts_exporter stopped");
  }
}
