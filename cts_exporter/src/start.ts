import type { Writable } from "node:stream";
import {
  AppError,
  createLogger,
  ErrorCode,
  exportPromRegistry,
  isAppError,
  telemetryActive,
  type Env,
  type Logger,
} from "@cts/shared";
import { systemClock } from "./adapters/clock.js";
import { createDeadLetterFile } from "./adapters/dead-letter-file.js";
import { createHttpTransport } from "./adapters/http-transport.js";
import { createDryRunTransport, createLogOnlyTransport } from "./adapters/local-transports.js";
import { createMetrics } from "./adapters/metrics.js";
import { createTokenFile } from "./adapters/oidc-token.js";
import { startOpsServer } from "./adapters/ops-server.js";
import { createStateFile } from "./adapters/state-file.js";
import { loadCloudConfig, type CloudConfig } from "./cloud-config/index.js";
import { parseExporterConfig, type ExporterConfig } from "./config.js";
import type { PollState } from "./core/cycle.js";
import type { CheckpointStore, Clock, DeadLetterSink, EventTransport } from "./core/ports.js";
import { freshPollState, restorePollState } from "./core/saved-state.js";
import { cloudFailureExit, EXIT, type ExitCode } from "./exit-codes.js";
import { createOtcClient, forProject, type OtcClient, type OtcClientOptions } from "./otc/index.js";

export interface StartOptions {
  readonly env: Env;
  readonly argv: readonly string[];
  /** Where `--dry-run` writes events. */
  readonly stdout: Writable;
  /** Where JSON log lines go (stdout normally, stderr with --dry-run). */
  readonly logDestination?: Writable;
  readonly clock?: Clock;
}

/** One polled project: its CTS client, its own state and logger, and how its last cycle went. */
export interface Target {
  readonly client: OtcClient;
  readonly state: PollState;
  readonly logger: Logger;
  lastOk: boolean | undefined;
}

/** Everything the exporter sets up before its first cycle. */
export interface Exporter {
  readonly config: ExporterConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: ReturnType<typeof createMetrics>;
  readonly targets: readonly Target[];
  readonly transport: EventTransport & { close?(): Promise<void> };
  /** Where checkpoints are saved; unset without CTS_STATE_FILE, and when nothing is delivered. */
  readonly checkpoints: CheckpointStore | undefined;
  readonly deadLetters: (DeadLetterSink & { close(): Promise<void> }) | undefined;
  readonly ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  /** Several projects (CTS_PROJECTS): logs and metrics carry each one's project and region. */
  readonly perProject: boolean;
}

/** The start failed; the reason is logged, and the process ends with `exit`. */
export class StartFailed extends Error {
  readonly exit: ExitCode;
  constructor(exit: ExitCode) {
    super(`cts_exporter could not start (exit code ${exit})`);
    this.exit = exit;
  }
}

/** Logs why the start failed, as the last line before the process ends. */
function startFailed(logger: Logger, error: unknown, exit: ExitCode): StartFailed {
  logger.fatal(
    { code: isAppError(error) ? error.code : ErrorCode.INTERNAL },
    (error as Error).message,
  );
  return new StartFailed(exit);
}

/** The environment and flags, and the logger they ask for. */
function configure(options: StartOptions): { config: ExporterConfig; logger: Logger } {
  let config: ExporterConfig;
  try {
    config = parseExporterConfig(options.env, options.argv);
  } catch (error) {
    const bootLogger = createLogger({
      name: "cts_exporter",
      destination: options.logDestination ?? process.stdout,
    });
    throw startFailed(bootLogger, error, EXIT.config);
  }
  const logger = createLogger({
    name: "cts_exporter",
    level: config.debug ? "debug" : "info",
    destination: options.logDestination ?? (config.dryRun ? process.stderr : process.stdout),
  });
  return { config, logger };
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

/** The cloud configuration and an authenticated client per project. */
async function connect(
  exporter: Pick<Exporter, "config" | "logger" | "clock" | "metrics">,
  env: Env,
): Promise<OtcClient[]> {
  const { config, logger, clock, metrics } = exporter;
  let clients: OtcClient[];
  try {
    const cloud = loadCloudConfig(env);
    clients = await createClients(config, cloud, {
      logger,
      now: () => clock.now(),
      ...(config.ctsEndpoint === undefined ? {} : { ctsEndpoint: config.ctsEndpoint }),
      onInvalidTrace: () => {
        metrics.invalidTrace();
      },
    });
  } catch (error) {
    throw startFailed(logger, error, cloudFailureExit(error));
  }
  if (clients.length === 0) {
    const none = new AppError(
      ErrorCode.CONFIG_INVALID,
      "CTS_PROJECTS=all found no project these credentials can use; name the projects instead",
    );
    throw startFailed(logger, none, EXIT.config);
  }
  return clients;
}

/** Each client with its logger and the state the checkpoint store kept for it. */
async function restoreTargets(
  exporter: Pick<Exporter, "config" | "logger" | "clock" | "perProject">,
  clients: readonly OtcClient[],
  store: CheckpointStore | undefined,
): Promise<Target[]> {
  const { config, logger, clock, perProject } = exporter;
  let saved;
  try {
    saved = await store?.load();
  } catch (error) {
    throw startFailed(logger, error, EXIT.config);
  }
  return clients.map((client) => {
    const { source, projectId, region } = client.origin;
    const projectLogger = perProject ? logger.child({ project: projectId, region }) : logger;
    const state =
      store === undefined
        ? freshPollState()
        : restorePollState(
            saved,
            { source, tracker: config.tracker },
            { logger: projectLogger, stateFile: store.location, now: clock.now() },
          );
    return { client, logger: projectLogger, state, lastOk: undefined };
  });
}

function buildTransport(
  config: ExporterConfig,
  logger: Logger,
  stdout: Writable,
): Exporter["transport"] {
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

/** `/healthz`, `/readyz` and `/metrics`; none for `--once`. */
async function startOps(
  exporter: Pick<Exporter, "config" | "logger" | "metrics" | "targets" | "transport">,
): Promise<Exporter["ops"]> {
  const { config, logger, metrics, targets, transport } = exporter;
  if (config.once) return undefined;
  try {
    return await startOpsServer({
      port: config.port,
      // Red while any project's last cycle failed; the others keep polling meanwhile.
      health: { ready: () => targets.every((target) => target.lastOk !== false) },
      registry: metrics.registry,
    });
  } catch (error) {
    await transport.close?.();
    const busy = new AppError(
      ErrorCode.CONFIG_INVALID,
      `cannot serve /healthz on PORT ${config.port}: ${(error as Error).message}; choose a free PORT`,
    );
    throw startFailed(logger, busy, EXIT.config);
  }
}

function logStarted(exporter: Pick<Exporter, "config" | "logger" | "targets" | "transport">) {
  const { config, logger, targets, transport } = exporter;
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
}

/**
 * Configuration, metrics, the cloud clients, their saved checkpoints, the transport to the sink
 * and the ops server, in that order.
 * @throws StartFailed with the exit code, once the reason is logged.
 */
export async function startExporter(options: StartOptions): Promise<Exporter> {
  const clock = options.clock ?? systemClock;
  const { config, logger } = configure(options);
  const metrics = createMetrics(() => clock.now());
  exportPromRegistry(metrics.registry);
  const perProject = config.projects !== undefined;
  const clients = await connect({ config, logger, clock, metrics }, options.env);
  const store = config.stateFile === undefined ? undefined : createStateFile(config.stateFile);
  const targets = await restoreTargets({ config, logger, clock, perProject }, clients, store);
  const transport = buildTransport(config, logger, options.stdout);
  const ops = await startOps({ config, logger, metrics, targets, transport });
  logStarted({ config, logger, targets, transport });
  // A dry run or CTS_X_PNP=false delivers nothing: saving its checkpoint would make the next
  // real run skip every trace it only printed or logged.
  const delivers = config.push && !config.dryRun;
  const deadLetters =
    config.deadLetterFile === undefined || !delivers
      ? undefined
      : createDeadLetterFile(config.deadLetterFile, () => clock.now());
  return {
    config,
    logger,
    clock,
    metrics,
    targets,
    transport,
    checkpoints: delivers ? store : undefined,
    deadLetters,
    ops,
    perProject,
  };
}
