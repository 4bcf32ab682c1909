import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCode, toAppError, type AppError, type Logger } from "@cts/shared";
import type { GraphRow } from "./graph-rows.js";
import type { GraphStore, SinkMetrics, WriteOutcome } from "./ports.js";

/**
 * Retries of a write that hit contention (NEO4J_TRANSIENT): "full jitter" exponential backoff,
 * a random delay in [0, min(maxDelayMs, baseDelayMs * 2^attempt)], so replicas that deadlocked
 * on each other do not collide again in lock step; after `budgetMs` the requests get 503.
 */
export interface ContentionRetry {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly budgetMs: number;
}

export const CONTENTION_RETRY: ContentionRetry = {
  baseDelayMs: 10,
  maxDelayMs: 500,
  budgetMs: 30_000,
};

/** The delay before retry number `attempt` (0-based), given a random number in [0, 1). */
export function contentionDelayMs(attempt: number, retry: ContentionRetry, random: number): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random * ceiling);
}

/** Another transaction was in the way (a deadlock, a lock timeout): Neo4j itself is up. */
export const isContention = (error: AppError): boolean => error.code === ErrorCode.NEO4J_TRANSIENT;

/** What a retrying write reports to. */
export interface RetryContext {
  readonly store: GraphStore;
  readonly retry: ContentionRetry;
  readonly metrics: SinkMetrics;
  readonly logger: Logger;
  /** Neo4j answered (with contention), so it is reachable: /readyz must stay green. */
  readonly answered: () => void;
}

/** One write, retried while it meets contention and the retry budget lasts. */
export async function writeRetrying(
  rows: readonly GraphRow[],
  context: RetryContext,
): Promise<WriteOutcome> {
  const { store, retry, metrics, logger } = context;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.write(rows);
    } catch (error) {
      const appError = toAppError(error);
      if (!isContention(appError) || Date.now() - started >= retry.budgetMs) throw appError;
      metrics.neo4jError(appError.code);
      metrics.writeRetried();
      context.answered();
      logger.debug({ code: appError.code, attempt, err: appError.message }, "write retried");
      await sleep(contentionDelayMs(attempt, retry, Math.random()));
    }
  }
}
