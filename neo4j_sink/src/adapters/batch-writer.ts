import { AppError, ErrorCode, toAppError, type Logger } from "@cts/shared";
import type { GraphRow } from "../core/graph-rows.js";
import type { SinkMetrics } from "../core/ports.js";
import { buildWriteBatch } from "../core/write-batch.js";
import { queuedTrace, traceTransaction, type QueuedTrace } from "../telemetry.js";
import type { GraphStore } from "./graph-store.js";

/** Tuning and collaborators of the single writer. */
export interface BatchWriterOptions {
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

interface Job {
  pending: number;
  settled: boolean;
  /** The request's wait span and trace (OpenTelemetry); undefined when tracing is off. */
  readonly trace: QueuedTrace | undefined;
  readonly resolve: () => void;
  readonly reject: (error: AppError) => void;
}

interface Part {
  readonly rows: readonly GraphRow[];
  readonly job: Job;
}

const FRESH_CONTACT_MS = 2_000;

function unavailable(message: string, cause?: unknown): AppError {
  return new AppError(ErrorCode.NEO4J_UNAVAILABLE, message, { retryable: true, cause });
}

const isOutage = (error: AppError) =>
  error.code === ErrorCode.NEO4J_UNAVAILABLE || error.code === ErrorCode.NEO4J_AUTH_FAILED;

function fail(job: Job, error: AppError): void {
  if (job.settled) return;
  job.settled = true;
  job.reject(error);
}

/**
 * One writer for the whole process: events of concurrent requests are grouped into one
 * transaction (group commit), at most one transaction is in flight, and a request is answered
 * only when all its events committed. One writer keeps hub nodes (Project, Region) from being
 * locked by competing transactions. While Neo4j is down every request fails fast with 503 and
 * a probe loop brings the writer back by itself.
 */
export function createBatchWriter(options: BatchWriterOptions): BatchWriter {
  const { store, logger, metrics } = options;
  let queue: Part[] = [];
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

  const setQueue = (parts: Part[]) => {
    queue = parts;
    queued = parts.reduce((sum, part) => sum + part.rows.length, 0);
    metrics.queueDepth(queued);
  };
  const enqueue = (parts: readonly Part[], events: number) => {
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

  const commit = async (parts: readonly Part[]) => {
    const rows = parts.flatMap((part) => part.rows);
    const batch = buildWriteBatch(rows);
    const started = performance.now();
    await traceTransaction(
      parts.map((part) => part.job.trace),
      { events: batch.actions.length },
      () => store.write(batch),
    );
    metrics.batchCommitted(batch.actions.length, (performance.now() - started) / 1000);
    lastContact = Date.now();
    logger.debug(
      { events: batch.actions.length, ms: Math.round(performance.now() - started) },
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
  const isolate = async (parts: readonly Part[], error: AppError) => {
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
        await isolate(
          parts.filter((part) => part.job === job),
          appError,
        );
      }
    }
  };

  const writeNext = async () => {
    const taken: Part[] = [];
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
      const parts: Part[] = [];
      const job: Job = {
        pending: 0,
        settled: false,
        resolve,
        reject,
        trace: queuedTrace(rows.length),
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
