import { toAppError, type AppError, type Logger } from "@cts/shared";
import {
  CONTENTION_RETRY,
  isContention,
  writeRetrying,
  type ContentionRetry,
  type RetryContext,
} from "./contention-retry.js";
import type { GraphRow } from "./graph-rows.js";
import {
  createNeo4jAvailability,
  isOutage,
  unavailable,
  type Neo4jAvailability,
} from "./neo4j-availability.js";
import type { GraphStore, SinkMetrics, WriteTracer } from "./ports.js";

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
  /** Backoff for writes that hit contention; defaults in CONTENTION_RETRY (contention-retry.ts). */
  readonly contentionRetry?: ContentionRetry;
  /** Spans of each request's wait and of each transaction; absent when tracing is off. */
  readonly tracer?: WriteTracer<Trace>;
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

/** One request: answered once all its parts committed, or at its first failure. */
interface Job<Trace> {
  pending: number;
  settled: boolean;
  /** What the tracer keeps of the request; undefined when tracing is off. */
  readonly trace: Trace | undefined;
  readonly resolve: () => void;
  readonly reject: (error: AppError) => void;
}

/** At most `maxBatchEvents` rows of one request: the unit a transaction takes from the queue. */
interface Part<Trace> {
  readonly rows: readonly GraphRow[];
  readonly job: Job<Trace>;
}

/** At most this many conflicting ids are logged one by one per transaction. */
const CONFLICTS_LOGGED = 20;

function fail(job: Job<unknown>, error: AppError): void {
  if (job.settled) return;
  job.settled = true;
  job.reject(error);
}

/** A request's rows cut into parts of at most `maxEvents`. */
function partsOf<Trace>(
  rows: readonly GraphRow[],
  job: Job<Trace>,
  maxEvents: number,
): Part<Trace>[] {
  const parts: Part<Trace>[] = [];
  for (let start = 0; start < rows.length; start += maxEvents) {
    parts.push({ rows: rows.slice(start, start + maxEvents), job });
  }
  return parts;
}

/**
 * The parts the next transaction takes: from the head of the queue, skipping requests already
 * answered (failed), as many as fit in `maxEvents` (always at least one).
 */
function takeBatch<Trace>(
  queue: readonly Part<Trace>[],
  maxEvents: number,
): { readonly taken: Part<Trace>[]; readonly rest: Part<Trace>[] } {
  const taken: Part<Trace>[] = [];
  let size = 0;
  let index = 0;
  for (; index < queue.length; index++) {
    const part = queue[index];
    if (part === undefined || part.job.settled) continue;
    if (taken.length > 0 && size + part.rows.length > maxEvents) break;
    taken.push(part);
    size += part.rows.length;
  }
  return { taken, rest: queue.slice(index) };
}

function reportConflicts(
  conflicts: readonly string[],
  { logger, metrics }: { logger: Logger; metrics: SinkMetrics },
): void {
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
}

/**
 * One writer for the whole process: events of concurrent requests are grouped into one
 * transaction (group commit), at most one transaction is in flight, and a request is answered
 * only when all its events committed. One writer keeps hub nodes (Project, Region) from being
 * locked by competing transactions of this process. Other replicas on the same Neo4j still
 * compete: a deadlock or lock timeout is contention, retried with jittered backoff
 * (contention-retry.ts) and never taken for an outage. Only connection loss (or refused
 * credentials) marks Neo4j down: then every request fails fast with 503, /readyz is red, and a
 * probe loop (neo4j-availability.ts) brings the writer back by itself.
 */
export function createBatchWriter<Trace>(options: BatchWriterOptions<Trace>): BatchWriter {
  return new GroupCommitWriter(options);
}

class GroupCommitWriter<Trace> implements BatchWriter {
  private queue: Part<Trace>[] = [];
  private queued = 0;
  private writing: Promise<void> | undefined;
  private linger: NodeJS.Timeout | undefined;
  // Requests expected per batch: those of the last batch (answered now, so likely to send
  // again) plus those that waited meanwhile. Writing once that many are queued, rather than at
  // once or only after the full linger, keeps batches large without idling Neo4j.
  private expected = 1;
  private closing = false;
  private readonly neo4j: Neo4jAvailability;
  private readonly retrying: RetryContext;
  private readonly options: BatchWriterOptions<Trace>;

  constructor(options: BatchWriterOptions<Trace>) {
    this.options = options;
    const { store, logger, metrics } = options;
    this.neo4j = createNeo4jAvailability({
      store,
      logger,
      metrics,
      probeIntervalMs: options.probeIntervalMs,
      onDown: (error) => {
        this.failQueued(error);
      },
    });
    this.retrying = {
      store,
      logger,
      metrics,
      retry: options.contentionRetry ?? CONTENTION_RETRY,
      answered: () => {
        this.neo4j.contact();
      },
    };
  }

  submit(rows: readonly GraphRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const refusal = this.refusal(rows.length);
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise<void>((resolve, reject) => {
      const job: Job<Trace> = {
        pending: 0,
        settled: false,
        resolve,
        reject,
        trace: this.options.tracer?.enqueued(rows.length),
      };
      const parts = partsOf(rows, job, this.options.maxBatchEvents);
      job.pending = parts.length;
      this.queue.push(...parts);
      this.setQueued(this.queued + rows.length);
      this.kick();
    });
  }

  async isReady(): Promise<boolean> {
    return !this.closing && (await this.neo4j.ready());
  }

  async close(): Promise<void> {
    this.closing = true;
    this.neo4j.stop();
    while (this.writing !== undefined || this.queue.length > 0) {
      this.flush();
      await this.writing;
    }
  }

  /** Why a request of `events` is refused at once (503), if it is. */
  private refusal(events: number): AppError | undefined {
    if (this.closing) return unavailable("the sink is shutting down; retry later");
    if (!this.neo4j.up) {
      return unavailable("Neo4j is unavailable; retry after the Retry-After delay");
    }
    if (this.queued > 0 && this.queued + events > this.options.maxQueuedEvents) {
      return unavailable(`the write queue is full (${this.queued} events); retry after the delay`);
    }
    return undefined;
  }

  private setQueued(events: number): void {
    this.queued = events;
    this.options.metrics.queueDepth(events);
  }

  private setQueue(parts: Part<Trace>[]): void {
    this.queue = parts;
    this.setQueued(parts.reduce((sum, part) => sum + part.rows.length, 0));
  }

  private failQueued(error: AppError): void {
    const waiting = this.queue;
    this.setQueue([]);
    for (const part of waiting) fail(part.job, unavailable(error.message, error));
  }

  /** Writes now when a batch is full or as many requests as expected wait; else lingers. */
  private kick(): void {
    if (this.writing !== undefined) return;
    const { maxBatchEvents, lingerMs } = this.options;
    if (this.queued >= maxBatchEvents || this.queue.length >= this.expected || this.closing) {
      this.flush();
    } else {
      this.linger ??= setTimeout(() => {
        this.flush();
      }, lingerMs);
    }
  }

  private flush(): void {
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.linger = undefined;
    if (this.writing !== undefined || this.queue.length === 0) return;
    this.writing = this.writeNext().finally(() => {
      this.writing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async writeNext(): Promise<void> {
    const { taken, rest } = takeBatch(this.queue, this.options.maxBatchEvents);
    this.setQueue(rest);
    if (taken.length === 0) return;
    try {
      await this.commit(taken);
      this.expected = Math.max(1, taken.length + this.queue.length);
    } catch (error) {
      await this.settleFailure(taken, toAppError(error));
    }
  }

  private async commit(parts: readonly Part<Trace>[]): Promise<void> {
    const { logger, metrics, tracer } = this.options;
    const rows = parts.flatMap((part) => part.rows);
    const started = performance.now();
    const write = () => writeRetrying(rows, this.retrying);
    const outcome = await (tracer === undefined
      ? write()
      : tracer.transaction(
          parts.map((part) => part.job.trace),
          { events: rows.length },
          write,
        ));
    metrics.batchCommitted(outcome.events, (performance.now() - started) / 1000);
    this.neo4j.contact();
    reportConflicts(outcome.conflicts, this.options);
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
  }

  /**
   * Answers the requests of a failed transaction: an outage fails them with 503 and marks Neo4j
   * down (returns true); contention past the retry budget fails them with 503 but leaves the
   * sink up; anything else is retried request by request (isolate).
   */
  private async settleFailure(parts: readonly Part<Trace>[], error: AppError): Promise<boolean> {
    this.options.metrics.neo4jError(error.code);
    if (isOutage(error)) {
      for (const part of parts) fail(part.job, unavailable(error.message, error));
      this.neo4j.down(error);
      return true;
    }
    if (isContention(error)) {
      this.options.logger.warn(
        { code: error.code, err: error.message },
        "write gave up on contention",
      );
      for (const part of parts) fail(part.job, error);
      return false;
    }
    await this.isolate(parts, error);
    return false;
  }

  /** A failure that is not an outage: retry each request alone, so one bad request fails alone. */
  private async isolate(parts: readonly Part<Trace>[], error: AppError): Promise<void> {
    const jobs = [...new Set(parts.map((part) => part.job))];
    if (jobs.length === 1) {
      this.options.logger.error(
        { code: error.code, err: error.message, ids: parts[0]?.rows.slice(0, 5).map((r) => r.id) },
        "batch write failed",
      );
      for (const job of jobs) fail(job, error);
      return;
    }
    for (const job of jobs) {
      const own = parts.filter((part) => part.job === job);
      try {
        await this.commit(own);
      } catch (retryError) {
        const appError = toAppError(retryError);
        if (await this.settleFailure(own, appError)) {
          for (const other of jobs) fail(other, unavailable(appError.message, appError));
          return;
        }
      }
    }
  }
}
