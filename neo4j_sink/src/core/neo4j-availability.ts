import { AppError, ErrorCode, toAppError, type Logger } from "@cts/shared";
import type { GraphStore, SinkMetrics } from "./ports.js";

/** A contact younger than this answers /readyz without a probe. */
const FRESH_CONTACT_MS = 2_000;

/** Connection loss or refused credentials: Neo4j is down for every request, not just one. */
export const isOutage = (error: AppError): boolean =>
  error.code === ErrorCode.NEO4J_UNAVAILABLE || error.code === ErrorCode.NEO4J_AUTH_FAILED;

export function unavailable(message: string, cause?: unknown): AppError {
  return new AppError(ErrorCode.NEO4J_UNAVAILABLE, message, { retryable: true, cause });
}

/** Whether Neo4j is up as the writer sees it, and the probe loop that notices it is back. */
export interface Neo4jAvailability {
  /** False from an outage until a probe found Neo4j answering again (with the schema in place). */
  readonly up: boolean;
  /** Neo4j answered just now. */
  contact(): void;
  /** Neo4j is down: reports it once, calls `onDown`, and probes until it is back. */
  down(error: AppError): void;
  /** Up, and answering now (a probe unless the last contact is fresh); an outage found here counts. */
  ready(): Promise<boolean>;
  /** No more probes (the writer is closing). */
  stop(): void;
}

export interface AvailabilityOptions {
  readonly store: GraphStore;
  readonly logger: Logger;
  readonly metrics: SinkMetrics;
  /** Interval between probes while Neo4j is unavailable. */
  readonly probeIntervalMs: number;
  /** Called at each `down`, so queued work fails fast. */
  readonly onDown: (error: AppError) => void;
}

export function createNeo4jAvailability(options: AvailabilityOptions): Neo4jAvailability {
  const { store, logger, metrics } = options;
  let up = true;
  let stopped = false;
  let lastContact = Date.now();
  let probe: Promise<boolean> | undefined;
  let recovery: NodeJS.Timeout | undefined;

  const scheduleRecovery = () => {
    recovery = setTimeout(() => void recover(), options.probeIntervalMs);
    recovery.unref();
  };

  const recover = async () => {
    recovery = undefined;
    if (stopped) return;
    try {
      await store.ping();
      await store.ensureSchema();
      up = true;
      lastContact = Date.now();
      logger.info("Neo4j answers again; accepting events");
    } catch (error) {
      metrics.neo4jError(toAppError(error).code);
      scheduleRecovery();
    }
  };

  const down = (error: AppError) => {
    if (up) {
      logger.warn({ code: error.code, err: error.message }, "Neo4j unavailable; answering 503");
    }
    up = false;
    options.onDown(error);
    if (recovery === undefined && !stopped) scheduleRecovery();
  };

  const ready = async (): Promise<boolean> => {
    if (!up) return false;
    if (Date.now() - lastContact < FRESH_CONTACT_MS) return true;
    probe ??= store.ping().then(
      () => {
        lastContact = Date.now();
        return true;
      },
      (error: unknown) => {
        const appError = toAppError(error);
        metrics.neo4jError(appError.code);
        if (isOutage(appError)) down(appError);
        return false;
      },
    );
    try {
      return await probe;
    } finally {
      probe = undefined;
    }
  };

  return {
    get up() {
      return up;
    },
    contact: () => {
      lastContact = Date.now();
    },
    down,
    ready,
    stop: () => {
      stopped = true;
      if (recovery !== undefined) clearTimeout(recovery);
      recovery = undefined;
    },
  };
}
