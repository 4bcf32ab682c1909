import type { ContentMode } from "./cloudevent-parser.js";

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
