import { telemetryActive, type Logger } from "@cts/shared";
import type { ExporterConfig } from "./config.js";
import type { CycleOptions, CycleSummary } from "./core/cycle.js";
import { runPoller } from "./core/poller.js";
import type { CoreDeps } from "./core/ports.js";
import { toSavedStates } from "./core/saved-state.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import {
  startExporter,
  StartFailed,
  type Exporter,
  type StartOptions,
  type Target,
} from "./start.js";
import { traceCycle } from "./telemetry.js";

interface RunOptions extends StartOptions {
  /** Aborted on SIGTERM/SIGINT. */
  readonly signal: AbortSignal;
  /** How long in-flight sends may take after the signal before they are abandoned. */
  readonly shutdownGraceMs?: number;
}

const SHUTDOWN_GRACE_MS = 10_000;
/** The longest span one listing covers; a longer backlog is read and committed in pieces. */
const MAX_SPAN_MS = 60 * 60_000;
/** After a failed cycle the next one comes this soon (or after the interval, if shorter). */
const FAILURE_RETRY_MS = 30_000;

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

/** The cycle settings every project shares, from the configuration. */
function cycleSettings(config: ExporterConfig): CycleOptions & {
  readonly intervalMs: number;
  readonly failureRetryMs: number;
  readonly once: boolean;
} {
  return {
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
    intervalMs: (config.pollIntervalSeconds ?? config.fromMinutes * 60) * 1000,
    failureRetryMs: FAILURE_RETRY_MS,
    once: config.once,
  };
}

/** What one project's poller works with: the shared transport, its own source, logger, metrics. */
function coreDeps(exporter: Exporter, target: Target): CoreDeps {
  const { config, metrics, perProject } = exporter;
  const { projectId, region } = target.client.origin;
  return {
    source: target.client,
    transport: exporter.transport,
    metrics: perProject ? metrics.forProject({ project: projectId, region }) : metrics,
    clock: exporter.clock,
    logger: target.logger,
    deadLetters: exporter.deadLetters,
    ...(telemetryActive()
      ? { traceCycle: (run: () => Promise<CycleSummary>) => traceCycle(config.tracker, run) }
      : {}),
  };
}

/**
 * One poll loop per project, side by side: a project whose cycles fail (CTS refuses it, its
 * events are refused) keeps its own checkpoint and backs off alone. Returns the exit code once
 * `--once` ran its cycle or the signal stopped the loops.
 */
async function pollProjects(
  exporter: Exporter,
  signals: { readonly signal: AbortSignal; readonly deliverySignal: AbortSignal },
): Promise<ExitCode> {
  const { config, targets, checkpoints } = exporter;
  // Every project's entry at once; the store runs saves one after another.
  const saveCheckpoints = async () => {
    await checkpoints?.save(
      toSavedStates(
        targets.map(({ client, state }) => ({
          source: client.origin.source,
          tracker: config.tracker,
          state,
        })),
      ),
    );
  };
  const settings = { ...cycleSettings(config), ...signals, onCommit: saveCheckpoints };
  const lasts = await Promise.all(
    targets.map((target) =>
      runPoller(coreDeps(exporter, target), target.state, {
        ...settings,
        onCycle: async (summary) => {
          target.lastOk = summary.ok;
          logSummary(target.logger, summary);
          await saveCheckpoints();
        },
      }),
    ),
  );
  if (!config.once) return EXIT.ok;
  return lasts.every((last) => last.allDelivered) ? EXIT.ok : EXIT.undelivered;
}

/**
 * After SIGTERM/SIGINT the pollers start no new cycle; in-flight sends get `graceMs`, then the
 * returned signal abandons them. `detach` removes the listener once the loops are done.
 */
function graceAfterStop(
  signal: AbortSignal,
  graceMs: number,
  logger: Logger,
): { readonly deliverySignal: AbortSignal; detach(): void } {
  const hardStop = new AbortController();
  const onStop = () => {
    logger.info({ graceMs }, "stopping: no new polls, finishing in-flight sends");
    setTimeout(() => {
      hardStop.abort();
    }, graceMs).unref();
  };
  signal.addEventListener("abort", onStop, { once: true });
  return {
    deliverySignal: hardStop.signal,
    detach: () => {
      signal.removeEventListener("abort", onStop);
    },
  };
}

/**
 * The whole exporter: configuration, cloud clients, checkpoints, ops server and the poll loops.
 * Returns the process exit code; never calls process.exit, so tests can run it in-process.
 */
export async function runExporter(options: RunOptions): Promise<ExitCode> {
  let exporter: Exporter;
  try {
    exporter = await startExporter(options);
  } catch (error) {
    if (error instanceof StartFailed) return error.exit;
    throw error;
  }
  const { logger } = exporter;
  const stop = graceAfterStop(options.signal, options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS, logger);
  try {
    return await pollProjects(exporter, {
      signal: options.signal,
      deliverySignal: stop.deliverySignal,
    });
  } finally {
    stop.detach();
    await exporter.transport.close?.();
    await exporter.deadLetters?.close();
    await exporter.ops?.close();
    logger.info("cts_exporter stopped");
  }
}
