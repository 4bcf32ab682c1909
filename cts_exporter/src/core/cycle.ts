import { traceToCloudEvent } from "@cts/shared";
import { deliver, type RetryPolicy } from "./deliver.js";
import { Limiter } from "./limiter.js";
import type { CoreDeps, DeadLetter, InvalidListing, ListedTrace, TraceEvent } from "./ports.js";
import type { SeenIds } from "./seen-ids.js";
import {
  forgetBefore,
  nextWindow,
  subWindows,
  type TimeWindow,
  type WindowPolicy,
} from "./window.js";

/** What survives between cycles (and, through the state file, between runs). */
export interface PollState {
  /** Everything with a trace time before this was delivered; undefined before the first success. */
  checkpoint: number | undefined;
  /**
   * Where the first window starts (now minus CTS_FROM at the first cycle), kept until the first
   * checkpoint: without it every failed first cycle would look back from a later now.
   */
  start?: number | undefined;
  readonly seen: SeenIds;
}

export interface CycleOptions {
  readonly tracker: string;
  readonly window: WindowPolicy;
  readonly retry: RetryPolicy;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Events per request: 1 unless batch mode is on. */
  readonly batchSize: number;
  readonly overrides: Readonly<Record<string, string>>;
  /** Called each time the checkpoint moves (after every sub-window): persist it. */
  readonly onCommit?: (state: PollState) => Promise<void> | void;
}

export interface CycleSummary {
  readonly window: TimeWindow;
  readonly collected: number;
  readonly sent: number;
  readonly failed: number;
  /** Events the sink rejected with 400, or traces that cannot become an event: dead-lettered. */
  readonly rejected: number;
  readonly duplicates: number;
  /** Now minus the newest trace's time, when the window held any trace. */
  readonly lagMs: number | undefined;
  readonly durationMs: number;
  /** True when every collected trace was acknowledged (or dead-lettered) and listing completed. */
  readonly ok: boolean;
  /** True when every collected trace got a 2xx: what `--once` exits 0 on. */
  readonly allDelivered: boolean;
  readonly checkpoint: number | undefined;
  readonly error?: string;
}

interface Item {
  readonly listed: ListedTrace;
  readonly event: TraceEvent;
}

/** A listed trace that cannot become a CloudEvent, and why. */
interface Unmappable {
  readonly listed: ListedTrace;
  readonly unmappable: string;
}

type RunOptions = CycleOptions & {
  /** Stops listing and dispatching (SIGTERM); in-flight requests go on. */
  readonly signal: AbortSignal;
  /** Abandons in-flight requests (the shutdown grace period ran out). */
  readonly deliverySignal?: AbortSignal;
};

type DeliveryReport = Awaited<ReturnType<typeof deliver>>;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** One cycle under way: its counts, its first error, and the signals that stop it. */
class CycleRun {
  readonly counts = { collected: 0, sent: 0, failed: 0, rejected: 0, duplicates: 0 };
  /** The newest trace time seen, for the lag. */
  newest: number | undefined;
  /** The first reason the cycle failed; later ones are consequences. */
  error: string | undefined;
  /** Stops listing and dispatching: SIGTERM or the cycle's own failure. */
  readonly signal: AbortSignal;
  /** Abandons requests in flight: the grace period ran out, or the cycle failed. */
  readonly deliverySignal: AbortSignal;
  readonly #stop = new AbortController();
  readonly #deps: CoreDeps;
  readonly #state: PollState;
  readonly #options: RunOptions;

  constructor(deps: CoreDeps, state: PollState, options: RunOptions) {
    this.#deps = deps;
    this.#state = state;
    this.#options = options;
    this.signal = AbortSignal.any([options.signal, this.#stop.signal]);
    this.deliverySignal = AbortSignal.any(
      options.deliverySignal === undefined
        ? [this.#stop.signal]
        : [options.deliverySignal, this.#stop.signal],
    );
  }

  fail(reason: string): void {
    this.error ??= reason;
    this.#stop.abort();
  }

  /** Not delivered: forget the ids, so the next cycle sends them again. */
  forget(batch: readonly Item[]): void {
    for (const item of batch) this.#state.seen.delete(item.listed.trace.trace_id);
  }

  /** Keeps a condemned event; without a dead-letter file it must not pass the checkpoint. */
  async deadLetter(letter: DeadLetter): Promise<boolean> {
    const { deadLetters, metrics, logger } = this.#deps;
    if (deadLetters === undefined) {
      metrics.eventsFailed(1, letter.reason);
      logger.error(
        { eventId: letter.id, reason: letter.reason },
        "event rejected and CTS_DEAD_LETTER_FILE is unset: the cycle fails and the checkpoint stays",
      );
      this.fail(
        `event ${letter.id} was rejected (${letter.reason}) and CTS_DEAD_LETTER_FILE is unset; ` +
          "set it to keep rejected events and move on, or fix the cause",
      );
      return false;
    }
    try {
      await deadLetters.write(letter);
    } catch (writeError) {
      metrics.eventsFailed(1, letter.reason);
      logger.error({ eventId: letter.id, reason: letter.reason }, message(writeError));
      this.fail(message(writeError));
      return false;
    }
    this.counts.rejected++;
    metrics.eventsDeadLettered(1, letter.reason);
    logger.warn(
      { eventId: letter.id, reason: letter.reason, deadLetterFile: deadLetters.location },
      "event written to the dead-letter file",
    );
    return true;
  }

  /** Delivers one request's events and accounts for every one of them. */
  async send(batch: readonly Item[]): Promise<void> {
    const { transport, clock, metrics } = this.#deps;
    const report = await deliver(
      batch.map((item) => item.event),
      { transport, clock, metrics, retry: this.#options.retry },
      this.deliverySignal,
    );
    if (report.outcome === "delivered") {
      this.counts.sent += batch.length;
      metrics.eventsDelivered(batch.length, report.status);
    } else if (
      batch.length > 1 &&
      (report.outcome === "rejected" || (report.outcome === "refused" && report.status === 413))
    ) {
      // Over the sink's body limit (413), or one bad event somewhere in the batch (400): send
      // it again in halves until it fits and the bad event stands alone; the rest get through.
      const half = Math.ceil(batch.length / 2);
      await this.send(batch.slice(0, half));
      await this.send(batch.slice(half));
    } else if (report.outcome === "rejected") {
      await this.#rejected(batch, report);
    } else {
      this.#undelivered(batch, report);
    }
  }

  /** The sink answered 400 for one event: it goes to the dead-letter file, or fails the cycle. */
  async #rejected(
    batch: readonly Item[],
    report: Extract<DeliveryReport, { outcome: "rejected" }>,
  ): Promise<void> {
    const [item] = batch;
    this.#deps.logger.warn(
      { eventIds: batch.map((one) => one.event.id), status: report.status, answer: report.answer },
      "sink rejected event",
    );
    if (item === undefined) return;
    const kept = await this.deadLetter({
      reason: `rejected_${report.status}`,
      id: item.event.id,
      status: report.status,
      answer: report.answer,
      event: item.event,
    });
    if (!kept) {
      this.counts.failed += batch.length;
      this.forget(batch);
    }
  }

  /** Refused by the sink or out of attempts: nothing of the batch got through; the cycle fails. */
  #undelivered(
    batch: readonly Item[],
    report: Extract<DeliveryReport, { outcome: "refused" | "failed" }>,
  ): void {
    const { metrics, logger } = this.#deps;
    this.counts.failed += batch.length;
    this.forget(batch);
    if (report.outcome === "refused") {
      metrics.eventsFailed(batch.length, `refused_${report.status}`);
      logger.error(
        {
          eventIds: batch.slice(0, 10).map((item) => item.event.id),
          status: report.status,
          answer: report.answer,
        },
        "sink refused the request: check K_SINK and the sink's authentication; the cycle fails and the checkpoint stays",
      );
      this.fail(
        `the sink answered ${report.status} (${report.answer.slice(0, 200)}); ` +
          "check K_SINK and the sink's authentication and configuration",
      );
      return;
    }
    metrics.eventsFailed(batch.length, "retries_exhausted");
    this.fail(`delivery failed after ${report.attempts} attempts: ${report.reason}`);
  }

  /**
   * A listed trace as an event to send; undefined when it was delivered before (inside the
   * overlap). Synchronous, since it runs for every trace: a trace that cannot become an event
   * comes back as `unmappable`, for `deadLetterUnmappable`.
   */
  admit(listed: ListedTrace): Item | Unmappable | undefined {
    const { metrics, source } = this.#deps;
    const { seen } = this.#state;
    const { trace } = listed;
    this.counts.collected++;
    metrics.tracesCollected(1);
    this.newest = Math.max(this.newest ?? trace.time, trace.time);
    // Only the id decides: a trace CTS lists with a time outside the window (it filters on
    // record time, or late) is still a trace nobody delivered yet.
    if (seen.has(trace.trace_id)) {
      this.counts.duplicates++;
      metrics.duplicatesSkipped(1);
      return undefined;
    }
    // Marked as seen when dispatched (one set, not two, at 200,000 traces a window); a
    // failed delivery removes it again. Kept by the later of time and record time, so a
    // trace recorded late stays known as long as a window can list it again.
    seen.add(trace.trace_id, Math.max(trace.time, trace.record_time ?? trace.time));
    try {
      const event = traceToCloudEvent(trace, listed.raw, {
        origin: source.origin,
        overrides: this.#options.overrides,
      });
      return { listed, event };
    } catch (mappingError) {
      return { listed, unmappable: message(mappingError) };
    }
  }

  /** A trace that cannot become a valid CloudEvent: dead-lettered, or the cycle fails. */
  async deadLetterUnmappable({ listed, unmappable }: Unmappable): Promise<void> {
    const traceId = listed.trace.trace_id;
    this.#deps.logger.warn(
      { traceId, reason: unmappable },
      "trace cannot be turned into a valid CloudEvent",
    );
    const kept = await this.deadLetter({
      reason: "invalid_event",
      id: traceId,
      error: unmappable,
      trace: listed.raw,
    });
    if (!kept) {
      this.counts.failed++;
      this.#state.seen.delete(traceId);
    }
  }

  /**
   * Entries CTS listed that are not valid traces (the lister logged them): dead-lettered like a
   * trace that cannot become an event, or the cycle fails and the checkpoint stays. Never
   * skipped: the window would count as complete without them.
   */
  async deadLetterInvalid(invalid: readonly InvalidListing[]): Promise<void> {
    const { seen } = this.#state;
    for (const entry of invalid) {
      if (this.signal.aborted) return;
      this.counts.collected++;
      // Kept once: the overlap of the next window, or a retried cycle, lists it again.
      if (entry.traceId !== undefined && seen.has(entry.traceId)) {
        this.counts.duplicates++;
        continue;
      }
      const kept = await this.deadLetter({
        reason: "invalid_event",
        id: entry.traceId ?? "(no trace_id)",
        error: `not a valid CTS trace: ${entry.reason}`,
        trace: entry.raw,
      });
      if (!kept) {
        this.counts.failed++;
        return;
      }
      // Remembered from now: it stays known as long as a window reaching back to now can list it.
      if (entry.traceId !== undefined) seen.add(entry.traceId, this.#deps.clock.now());
    }
  }

  /** Sends a batch within the concurrency limit; a batch that never went out is forgotten. */
  async dispatch(limiter: Limiter, batch: readonly Item[]): Promise<void> {
    try {
      await limiter.run(async () => {
        try {
          await this.send(batch);
        } catch (sendError) {
          // A bug or an event the transport cannot encode: nothing of the batch is handled.
          this.counts.failed += batch.length;
          this.forget(batch);
          this.fail(`delivery failed: ${message(sendError)}`);
          throw sendError;
        }
      });
    } catch (refused) {
      // The limiter takes no new task after a failure: this batch was never sent.
      this.forget(batch);
      throw refused;
    }
  }

  /** Lists and delivers one sub-window; true when every trace of it was dealt with. */
  async runSubWindow(sub: TimeWindow): Promise<boolean> {
    const { concurrency, batchSize, tracker } = this.#options;
    const limiter = new Limiter(concurrency);
    let pending: Item[] = [];
    const flush = async () => {
      const batch = pending;
      pending = [];
      if (batch.length > 0) await this.dispatch(limiter, batch);
    };
    const invalid: InvalidListing[] = [];
    const onInvalid = (entry: InvalidListing) => invalid.push(entry);
    try {
      for await (const listed of this.#deps.source.listTraces(sub, {
        tracker,
        signal: this.signal,
        onInvalid,
      })) {
        if (invalid.length > 0) await this.deadLetterInvalid(invalid.splice(0));
        if (this.signal.aborted) break;
        const item = this.admit(listed);
        if (item === undefined) continue;
        if ("unmappable" in item) {
          await this.deadLetterUnmappable(item);
          continue;
        }
        pending.push(item);
        if (pending.length >= batchSize) await flush();
      }
      if (!this.signal.aborted) {
        await flush();
        if (invalid.length > 0) await this.deadLetterInvalid(invalid.splice(0));
      }
    } catch (listingError) {
      this.error ??= message(listingError);
    }
    try {
      await limiter.drain();
    } catch (taskError) {
      this.error ??= message(taskError);
    }
    // Traces collected but never handed to the sink (the cycle stopped early) were marked as
    // seen when listed; forget them so the next cycle sends them.
    this.forget(pending);
    return this.error === undefined && pending.length === 0 && !this.#options.signal.aborted;
  }
}

/**
 * The window a cycle reads. Without a checkpoint the look-back reaches the first cycle's start,
 * not just CTS_FROM before now: a first cycle that fails must not let the start slide past
 * undelivered traces.
 */
function cycleWindow(state: PollState, now: number, policy: WindowPolicy): TimeWindow {
  if (state.checkpoint === undefined) state.start ??= now - policy.lookbackMs;
  return nextWindow(state.checkpoint, now, {
    ...policy,
    lookbackMs: Math.max(0, now - (state.start ?? now - policy.lookbackMs)),
  });
}

/**
 * One poll-and-deliver cycle: lists the window (oldest sub-window first when it is long), skips
 * what was already delivered, maps each trace to a CloudEvent and delivers with bounded
 * concurrency. The checkpoint advances to a sub-window's end only when every trace of it was
 * acknowledged or dead-lettered; anything else (retries exhausted, a sink that refuses, a
 * rejected event with nowhere to keep it, a broken listing, a bug) stops the cycle, and the next
 * cycle re-reads from the unchanged checkpoint.
 */
export async function runCycle(
  deps: CoreDeps,
  state: PollState,
  options: RunOptions,
): Promise<CycleSummary> {
  const started = deps.clock.now();
  const window = cycleWindow(state, started, options.window);
  const run = new CycleRun(deps, state, options);
  for (const sub of subWindows(window, options.window.maxSpanMs)) {
    if (!(await run.runSubWindow(sub))) break;
    if (run.counts.failed > 0) break;
    state.checkpoint = sub.to;
    state.seen.pruneBefore(forgetBefore(sub.to, options.window));
    deps.metrics.checkpointMoved(sub.to);
    await options.onCommit?.(state);
  }
  if (options.signal.aborted) run.error ??= "stopped before the window was complete";
  const { counts, error, newest } = run;
  const ok = error === undefined && counts.failed === 0 && state.checkpoint === window.to;
  const finished = deps.clock.now();
  deps.metrics.cycleFinished((finished - started) / 1000, ok);
  return {
    window,
    ...counts,
    lagMs: newest === undefined ? undefined : finished - newest,
    durationMs: finished - started,
    ok,
    allDelivered: ok && counts.rejected === 0,
    checkpoint: state.checkpoint,
    ...(error === undefined ? {} : { error }),
  };
}
