import type { CloudEventV1 } from "cloudevents";
import type { CtsTrace, Logger, RawCtsTrace, TraceOrigin } from "@cts/shared";
import type { CycleSummary } from "./cycle.js";
import type { TimeWindow } from "./window.js";

/** A trace as listed by the cloud client: parsed for mapping, raw for the event's data. */
export interface ListedTrace {
  readonly trace: CtsTrace;
  readonly raw: RawCtsTrace;
}

/**
 * An entry of a CTS page that is not a valid trace. It is not yielded, but handed over whole so
 * it can go to the dead-letter file: skipping it would lose it without a trace.
 */
export interface InvalidListing {
  readonly traceId: string | undefined;
  /** The fields at fault and why; never their values. */
  readonly reason: string;
  /** The entry exactly as CTS sent it (not always an object). */
  readonly raw: unknown;
}

/** The CTS side: lists the traces of a window, newest first, page by page. */
export interface TraceSource {
  readonly origin: TraceOrigin;
  /**
   * `onInvalid` is called, before the next valid trace is yielded, for each entry of the window
   * that is not a valid trace.
   */
  listTraces(
    window: TimeWindow,
    options: {
      tracker: string;
      signal?: AbortSignal;
      onInvalid?: (invalid: InvalidListing) => void;
    },
  ): AsyncIterable<ListedTrace>;
}

export type TraceEvent = CloudEventV1<RawCtsTrace>;

/** What one attempt to hand events to the sink produced. */
export type AttemptResult =
  | {
      readonly kind: "response";
      readonly status: number;
      readonly retryAfter?: string | null;
      readonly body: string;
    }
  | { readonly kind: "network-error"; readonly message: string };

/**
 * The sink side: one HTTP request carrying one event (binary or structured mode) or several
 * (batch mode). Retrying is the core's decision, so an adapter makes exactly one attempt.
 */
export interface EventTransport {
  readonly mode: "binary" | "structured" | "batch" | "dry-run" | "log-only";
  attempt(events: readonly TraceEvent[], signal: AbortSignal): Promise<AttemptResult>;
}

/**
 * An event (or a trace that cannot become one) taken out of the pipeline for good, kept whole
 * so an operator can inspect, fix and replay it.
 */
export type DeadLetter =
  | {
      /** `rejected_400`: the sink answered 400 for this one event. */
      readonly reason: string;
      readonly id: string;
      readonly status: number;
      /** The start of the sink's answer. */
      readonly answer: string;
      readonly event: TraceEvent;
    }
  | {
      /**
       * `invalid_event`: the trace cannot be turned into a valid CloudEvent, or CTS listed an
       * entry that is not a valid trace.
       */
      readonly reason: string;
      readonly id: string;
      readonly error: string;
      /** As CTS sent it: an object, or whatever else a page held in its place. */
      readonly trace: unknown;
    };

/**
 * Where rejected events go (CTS_DEAD_LETTER_FILE). `write` resolves once the letter is durable;
 * only then may the checkpoint pass the event.
 */
export interface DeadLetterSink {
  /** Where letters go, for log lines. */
  readonly location: string;
  write(letter: DeadLetter): Promise<void>;
}

/** Counters and timings the core reports; adapters turn them into Prometheus metrics. */
export interface ExporterMetrics {
  tracesCollected(count: number): void;
  eventsDelivered(count: number, status: number): void;
  eventsFailed(count: number, reason: string): void;
  /** Events written to the dead-letter file, by reason (`rejected_400`, `invalid_event`). */
  eventsDeadLettered(count: number, reason: string): void;
  retried(reason: string): void;
  duplicatesSkipped(count: number): void;
  cycleFinished(seconds: number, ok: boolean): void;
  checkpointMoved(checkpoint: number): void;
}

/** One project's saved position: its checkpoint, plus the ids already delivered inside the overlap. */
export interface SavedState {
  readonly checkpoint: number | undefined;
  /** Where the first window starts while there is no checkpoint yet. */
  readonly start?: number | undefined;
  /** The CTS source the checkpoint belongs to; a different tenant starts afresh. */
  readonly source: string;
  readonly tracker: string;
  readonly seen: readonly (readonly [string, number])[];
}

/**
 * Where checkpoints outlive the process (CTS_STATE_FILE): one entry per polled project. A save
 * replaces every entry at once, and saves never interleave; a crash leaves the old or the new.
 */
export interface CheckpointStore {
  /** Where the checkpoints are kept, for log lines. */
  readonly location: string;
  /** Every project's entry; undefined when nothing was saved yet. Throws when it is unreadable. */
  load(): Promise<readonly SavedState[] | undefined>;
  save(states: readonly SavedState[]): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface CoreDeps {
  readonly source: TraceSource;
  readonly transport: EventTransport;
  readonly metrics: ExporterMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Unset: a rejected event fails the cycle, and the checkpoint stays before it. */
  readonly deadLetters?: DeadLetterSink | undefined;
  /** Runs each cycle inside a trace of its own (OpenTelemetry); absent when tracing is off. */
  readonly traceCycle?: (run: () => Promise<CycleSummary>) => Promise<CycleSummary>;
}
