import type { ContentMode } from "@cts/shared";
import type { GraphRow } from "./graph-rows.js";

/** Why a request or event was refused; the `reason` label of the rejection counter. */
export type RejectReason =
  | "unauthenticated"
  | "invalid_event"
  | "invalid_data"
  | "too_large"
  | "unsupported_media_type"
  | "unavailable"
  | "contention"
  | "internal";

/** What the sink counts. Implemented with prom-client in adapters/prom-metrics.ts. */
export interface SinkMetrics {
  /** Events parsed from a request in `mode`. */
  received(mode: ContentMode, events: number): void;
  /** Events (or, when none could be parsed, requests) refused for `reason`. */
  rejected(reason: RejectReason, events: number): void;
  /** A transaction committed `events` distinct events in `seconds`. */
  batchCommitted(events: number, seconds: number): void;
  /** A write or probe failed with this error code. */
  neo4jError(code: string): void;
  /**
   * Events redelivered with the same id but other content than the stored Action; the first
   * write is kept.
   */
  eventConflicts(events: number): void;
  /** A write hit contention (a deadlock, a lock timeout) and is tried again. */
  writeRetried(): void;
  /** Events waiting for the writer. */
  queueDepth(events: number): void;
}

/** What one committed write did with its rows. */
export interface WriteOutcome {
  /** Distinct event ids the transaction covered (new, unchanged and conflicting). */
  readonly events: number;
  /** Ids that were new and are now stored. */
  readonly written: number;
  /** Ids redelivered with other content than the stored (or an earlier) copy; not written. */
  readonly conflicts: readonly string[];
}

/** The sink's port to Neo4j: schema, batch writes and a liveness probe (adapters/graph-store.ts). */
export interface GraphStore {
  /**
   * Creates constraints and indexes (idempotent), waits until the indexes are online, and
   * compiles every statement once, so the first events do not wait for query planning.
   */
  ensureSchema(): Promise<void>;
  /**
   * Writes the rows in one transaction; resolves once it committed. An id Neo4j already holds
   * is never rewritten: the same content is skipped, other content is reported as a conflict.
   * Does not retry: a transient error (NEO4J_TRANSIENT) is the caller's to retry.
   */
  write(rows: readonly GraphRow[]): Promise<WriteOutcome>;
  /** Resolves when Neo4j answers a query; rejects with an AppError otherwise. */
  ping(): Promise<void>;
}

/**
 * Traces of the write queue (OpenTelemetry, telemetry.ts): `Trace` is whatever the tracer keeps
 * for one request; the writer only hands it back. Absent when tracing is off.
 */
export interface WriteTracer<Trace> {
  /** A request's rows joined the queue. */
  enqueued(events: number): Trace | undefined;
  /** Runs one transaction carrying the rows of `requests`. */
  transaction<T>(
    requests: readonly (Trace | undefined)[],
    batch: { readonly events: number },
    work: () => Promise<T>,
  ): Promise<T>;
}
