import { setTimeout as sleep } from "node:timers/promises";
import { AppError, ErrorCode, toAppError, type Logger } from "@cts/shared";
import type { GraphRow } from "./graph-rows.js";
import type { GraphStore, SinkMetrics, WriteOutcome, WriteTracer } from "./ports.js";

/** Tuning and collaborators of the single writer. */
export interface BatchWriterOptions<Trace> {
  readonly store: GraphStore;
  readonly logger: Logger;
  readonly metrics: SinkMetrics;
  /** How long an idle writer waits for more events before it writes a batch. */
  readonly lingerMs: number;
  /** Most events in one transaction; a larger request is written in several. */
  readonly maxBatchEvents: number;
  /** Most events waiting; beyond it requests get 503 instead of growing memory. */
  readonly maxQueuedEvents: number;
  /** Interval between probes while Neo4j is unavailable. */
  readonly probeIntervalMs: number;
  /** Backoff for writes that hit contention; defaults in CONTENTION_RETRY. */
  readonly contentionRetry?: ContentionRetry;
  /** Spans of each request's wait and of each transaction; absent when tracing is off. */
  readonly tracer?: WriteTracer<Trace>;
}

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

/** The single writer: every request's events go through it. */
export interface BatchWriter {
  /** Resolves once every row committed; rejects with NEO4J_UNAVAILABLE (503) or another AppError. */
  submit(rows: readonly GraphRow[]): Promise<void>;
  /** Neo4j reachable and the schema in place (probes when the last contact is not fresh). */
  isReady(): Promise<boolean>;
  /** Writes whatever is queued, then refuses new work. */
  close(): Promise<void>;
}

interface Job<Trace> {
  pending: number;
  settled: boolean;
  /** What the tracer keeps of the request; undefined when tracing is off. */
  readonly trace: Trace | undefined;
  readonly resolve: () => void;
  readonly reject: (error: AppError) => void;
}

interface Part<Trace> {
  readonly rows: readonly GraphRow[];
  readonly job: Job<Trace>;
}

const FRESH_CONTACT_MS = 2_000;

function unavailable(message: string, cause?: unknown): AppError {
  return new AppError(ErrorCode.NEO4J_UNAVAILABLE, message, { retryable: true, cause });
}

const isOutage = (error: AppError) =>
  error.code === ErrorCode.NEO4J_UNAVAILABLE || error.code === ErrorCode.NEO4J_AUTH_FAILED;
const isContention = (error: AppError) => error.code === ErrorCode.NEO4J_TRANSIENT;

/** At most this many conflicting ids are logged one by one per transaction. */
const CONFLICTS_LOGGED = 20;

function fail(job: Job<unknown>, error: AppError): void {
  if (job.settled) return;
  job.settled = true;
  job.reject(error);
}

/**
 * One writer for the whole process: events of concurrent requests are grouped into one
 * transaction (group commit), at most one transaction is in flight, and a request is answered
 * only when all its events committed. One writer keeps hub nodes (Project, Region) from being
 * locked by competing transactions of this process. Other replicas on the same Neo4j still
 * compete: a deadlock or lock timeout is contention, retried here with jittered backoff and
 * never taken for an outage. Only connection loss (or refused credentials) marks Neo4j down:
 * then every request fails fast with 503, /readyz is red, and a probe loop brings the writer
 * back by itself.
 */
export function createBatchWriter<Trace>(options: BatchWriterOptions<Trace>): BatchWriter {
  const { store, logger, metrics } = options;
  const retry = options.contentionRetry ?? CONTENTION_RETRY;
  let queue: Part<Trace>[] = [];
  let queued = 0;
  let writing: Promise<void> | undefined;
  let linger: NodeJS.Timeout | undefined;
  // Requests expected per batch: those of the last batch (answered now, so likely to send
  // again) plus those that waited meanwhile. Writing once that many are queued, rather than at
  // once or only after the full linger, keeps batches large without idling Neo4j.
  let expected = 1;
  let available = true;
  let closing = false;
  let lastContact = Date.now();
  let probe: Promise<boolean> | undefined;
  let recovery: NodeJS.Timeout | undefined;

  const setQueue = (parts: Part<Trace>[]) => {
    queue = parts;
    queued = parts.reduce((sum, part) => sum + part.rows.length, 0);
    metrics.queueDepth(queued);
  };
  const enqueue = (parts: readonly Part<Trace>[], events: number) => {
    queue.push(...parts);
    queued += events;
    metrics.queueDepth(queued);
  };

  const recover = async () => {
    recovery = undefined;
    if (closing) return;
    try {
      await store.ping();
      await store.ensureSchema();
      available = true;
      lastContact = Date.now();
      logger.info("Neo4j answers again; accepting events");
    } catch (error) {
      metrics.neo4jError(toAppError(error).code);
      recovery = setTimeout(() => void recover(), options.probeIntervalMs);
      recovery.unref();
    }
  };

  const markDown = (error: AppError) => {
    if (available) {
      logger.warn({ code: error.code, err: error.message }, "Neo4j unavailable; answering 503");
    }
    available = false;
    const waiting = queue;
    setQueue([]);
    for (const part of waiting) fail(part.job, unavailable(error.message, error));
    if (recovery === undefined && !closing) {
      recovery = setTimeout(() => void recover(), options.probeIntervalMs);
      recovery.unref();
    }
  };

  /** One write, retried while it meets contention and the retry budget lasts. */
  const writeRetrying = async (rows: readonly GraphRow[]): Promise<WriteOutcome> => {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await store.write(rows);
      } catch (error) {
        const appError = toAppError(error);
        if (!isContention(appError) || Date.now() - started >= retry.budgetMs) throw appError;
        metrics.neo4jError(appError.code);
        metrics.writeRetried();
        // Neo4j answered, so it is reachable: contention must not turn /readyz red.
        lastContact = Date.now();
        logger.debug({ code: appError.code, attempt, err: appError.message }, "write retried");
        await sleep(contentionDelayMs(attempt, retry, Math.random()));
      }
    }
  };

  const reportConflicts = (conflicts: readonly string[]) => {
    if (conflicts.length === 0) return;
    metrics.eventConflicts(conflicts.length);
    for (const eventId of conflicts.slice(0, CONFLICTS_LOGGED)) {
      logger.warn(
        { eventId },
        "event redelivered with other content than the stored one; kept the first write",
      );
    }
    if (conflicts.length > CONFLICTS_LOGGED) {
      logger.warn(
        { conflicts: conflicts.length, logged: CONFLICTS_LOGGED },
        "more redelivered events with other content than stored; kept the first writes",
      );
    }
  };

  const commit = async (parts: readonly Part<Trace>[]) => {
    const rows = parts.flatMap((part) => part.rows);
    const started = performance.now();
    const tracer = options.tracer;
    const outcome = await (tracer === undefined
      ? writeRetrying(rows)
      : tracer.transaction(
          parts.map((part) => part.job.trace),
          { events: rows.length },
          () => writeRetrying(rows),
        ));
    metrics.batchCommitted(outcome.events, (performance.now() - started) / 1000);
    lastContact = Date.now();
    reportConflicts(outcome.conflicts);
    logger.debug(
      {
        events: outcome.events,
        written: outcome.written,
        ms: Math.round(performance.now() - started),
      },
      "batch committed",
    );
    for (const part of parts) {
      part.job.pending -= 1;
      if (part.job.pending === 0 && !part.job.settled) {
        part.job.settled = true;
        part.job.resolve();
      }
    }
  };

  /** A failure that is not an outage: retry each request alone, so one bad request fails alone. */
  const isolate = async (parts: readonly Part<Trace>[], error: AppError) => {
    const jobs = [...new Set(parts.map((part) => part.job))];
    if (jobs.length === 1) {
      logger.error(
        { code: error.code, err: error.message, ids: parts[0]?.rows.slice(0, 5).map((r) => r.id) },
        "batch write failed",
      );
      for (const job of jobs) fail(job, error);
      return;
    }
    for (const job of jobs) {
      try {
        await commit(parts.filter((part) => part.job === job));
      } catch (retryError) {
        const appError = toAppError(retryError);
        metrics.neo4jError(appError.code);
        if (isOutage(appError)) {
          for (const other of jobs) fail(other, unavailable(appError.message, appError));
          markDown(appError);
          return;
        }
        if (isContention(appError)) {
          fail(job, appError);
          continue;
        }
        await isolate(
          parts.filter((part) => part.job === job),
          appError,
        );
      }
    }
  };

  const writeNext = async () => {
    const taken: Part<Trace>[] = [];
    let size = 0;
    let index = 0;
    for (; index < queue.length; index++) {
      const part = queue[index];
      if (part === undefined || part.job.settled) continue;
      if (taken.length > 0 && size + part.rows.length > options.maxBatchEvents) break;
      taken.push(part);
      size += part.rows.length;
    }
    setQueue(queue.slice(index));
    if (taken.length === 0) return;
    try {
      await commit(taken);
      expected = Math.max(1, taken.length + queue.length);
    } catch (error) {
      const appError = toAppError(error);
      metrics.neo4jError(appError.code);
      if (isOutage(appError)) {
        for (const part of taken) fail(part.job, unavailable(appError.message, appError));
        markDown(appError);
      } else if (isContention(appError)) {
        // The retry budget is spent: 503 for these requests (the senders retry), but Neo4j is
        // up, so the sink is not marked down.
        logger.warn({ code: appError.code, err: appError.message }, "write gave up on contention");
        for (const part of taken) fail(part.job, appError);
      } else {
        await isolate(taken, appError);
      }
    }
  };

  const flush = () => {
    if (linger !== undefined) clearTimeout(linger);
    linger = undefined;
    if (writing !== undefined || queue.length === 0) return;
    writing = writeNext().finally(() => {
      writing = undefined;
      if (queue.length > 0) kick();
    });
  };

  const kick = () => {
    if (writing !== undefined) return;
    if (queued >= options.maxBatchEvents || queue.length >= expected || closing) flush();
    else linger ??= setTimeout(flush, options.lingerMs);
  };

  const submit = (rows: readonly GraphRow[]): Promise<void> => {
    if (rows.length === 0) return Promise.resolve();
    if (closing) return Promise.reject(unavailable("the sink is shutting down; retry later"));
    if (!available) {
      return Promise.reject(unavailable("Neo4j is unavailable; retry after the Retry-After delay"));
    }
    if (queued > 0 && queued + rows.length > options.maxQueuedEvents) {
      return Promise.reject(
        unavailable(`the write queue is full (${queued} events); retry after the delay`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const parts: Part<Trace>[] = [];
      const job: Job<Trace> = {
        pending: 0,
        settled: false,
        resolve,
        reject,
        trace: options.tracer?.enqueued(rows.length),
      };
      for (let start = 0; start < rows.length; start += options.maxBatchEvents) {
        parts.push({ rows: rows.slice(start, start + options.maxBatchEvents), job });
      }
      job.pending = parts.length;
      enqueue(parts, rows.length);
      kick();
    });
  };

  const isReady = async (): Promise<boolean> => {
    if (closing || !available) return false;
    if (Date.now() - lastContact < FRESH_CONTACT_MS) return true;
    probe ??= store.ping().then(
      () => {
        lastContact = Date.now();
        return true;
      },
      (error: unknown) => {
        const appError = toAppError(error);
        metrics.neo4jError(appError.code);
        if (isOutage(appError)) markDown(appError);
        return false;
      },
    );
    try {
      return await probe;
    } finally {
      probe = undefined;
    }
  };

  const close = async () => {
    closing = true;
    if (recovery !== undefined) clearTimeout(recovery);
    recovery = undefined;
    while (writing !== undefined || queue.length > 0) {
      flush();
      await writing;
    }
  };

  return { submit, isReady, close };
}
