import { traceToCloudEvent } from "@cts/shared";
import { deliver, type RetryPolicy } from "./deliver.js";
import { Limiter } from "./limiter.js";
import type { CoreDeps, DeadLetter, ListedTrace, TraceEvent } from "./ports.js";
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

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

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
  options: CycleOptions & {
    /** Stops listing and dispatching (SIGTERM); in-flight requests go on. */
    readonly signal: AbortSignal;
    /** Abandons in-flight requests (the shutdown grace period ran out). */
    readonly deliverySignal?: AbortSignal;
  },
): Promise<CycleSummary> {
  const started = deps.clock.now();
  // Without a checkpoint the look-back reaches the first cycle's start, not just CTS_FROM
  // before now: a first cycle that fails must not let the start slide past undelivered traces.
  if (state.checkpoint === undefined) state.start ??= started - options.window.lookbackMs;
  const window = nextWindow(state.checkpoint, started, {
    ...options.window,
    lookbackMs: Math.max(0, started - (state.start ?? started - options.window.lookbackMs)),
  });
  const stopCycle = new AbortController();
  const signal = AbortSignal.any([options.signal, stopCycle.signal]);
  const deliverySignal = AbortSignal.any(
    options.deliverySignal === undefined
      ? [stopCycle.signal]
      : [options.deliverySignal, stopCycle.signal],
  );
  const counts = { collected: 0, sent: 0, failed: 0, rejected: 0, duplicates: 0 };
  let newest: number | undefined;
  let error: string | undefined;
  const fail = (reason: string) => {
    error ??= reason;
    stopCycle.abort();
  };
  /** Not delivered: forget the ids, so the next cycle sends them again. */
  const forget = (batch: readonly Item[]) => {
    for (const item of batch) state.seen.delete(item.listed.trace.trace_id);
  };

  /** Keeps a condemned event; without a dead-letter file it must not pass the checkpoint. */
  const deadLetter = async (letter: DeadLetter): Promise<boolean> => {
    if (deps.deadLetters === undefined) {
      deps.metrics.eventsFailed(1, letter.reason);
      deps.logger.error(
        { eventId: letter.id, reason: letter.reason },
        "event rejected and CTS_DEAD_LETTER_FILE is unset: the cycle fails and the checkpoint stays",
      );
      fail(
        `event ${letter.id} was rejected (${letter.reason}) and CTS_DEAD_LETTER_FILE is unset; ` +
          "set it to keep rejected events and move on, or fix the cause",
      );
      return false;
    }
    try {
      await deps.deadLetters.write(letter);
    } catch (writeError) {
      deps.metrics.eventsFailed(1, letter.reason);
      deps.logger.error({ eventId: letter.id, reason: letter.reason }, message(writeError));
      fail(message(writeError));
      return false;
    }
    counts.rejected++;
    deps.metrics.eventsDeadLettered(1, letter.reason);
    deps.logger.warn(
      { eventId: letter.id, reason: letter.reason, deadLetterFile: deps.deadLetters.location },
      "event written to the dead-letter file",
    );
    return true;
  };

  const send = async (batch: readonly Item[]): Promise<void> => {
    const ids = batch.map((item) => item.event.id);
    const report = await deliver(
      batch.map((item) => item.event),
      { transport: deps.transport, clock: deps.clock, metrics: deps.metrics, retry: options.retry },
      deliverySignal,
    );
    if (report.outcome === "delivered") {
      counts.sent += batch.length;
      deps.metrics.eventsDelivered(batch.length, report.status);
      return;
    }
    if (
      batch.length > 1 &&
      (report.outcome === "rejected" || (report.outcome === "refused" && report.status === 413))
    ) {
      // Over the sink's body limit (413), or one bad event somewhere in the batch (400): send
      // it again in halves until it fits and the bad event stands alone; the rest get through.
      const half = Math.ceil(batch.length / 2);
      await send(batch.slice(0, half));
      await send(batch.slice(half));
      return;
    }
    if (report.outcome === "rejected") {
      const [item] = batch;
      deps.logger.warn(
        { eventIds: ids, status: report.status, answer: report.answer },
        "sink rejected event",
      );
      if (item === undefined) return;
      const kept = await deadLetter({
        reason: `rejected_${report.status}`,
        id: item.event.id,
        status: report.status,
        answer: report.answer,
        event: item.event,
      });
      if (!kept) {
        counts.failed += batch.length;
        forget(batch);
      }
      return;
    }
    counts.failed += batch.length;
    forget(batch);
    if (report.outcome === "refused") {
      deps.metrics.eventsFailed(batch.length, `refused_${report.status}`);
      deps.logger.error(
        { eventIds: ids.slice(0, 10), status: report.status, answer: report.answer },
        "sink refused the request: check K_SINK and the sink's authentication; the cycle fails and the checkpoint stays",
      );
      fail(
        `the sink answered ${report.status} (${report.answer.slice(0, 200)}); ` +
          "check K_SINK and the sink's authentication and configuration",
      );
      return;
    }
    deps.metrics.eventsFailed(batch.length, "retries_exhausted");
    fail(`delivery failed after ${report.attempts} attempts: ${report.reason}`);
  };

  /** Lists and delivers one sub-window; true when every trace of it was dealt with. */
  const runSubWindow = async (sub: TimeWindow): Promise<boolean> => {
    const limiter = new Limiter(options.concurrency);
    let pending: Item[] = [];
    const dispatch = async (batch: Item[]) => {
      try {
        await limiter.run(async () => {
          try {
            await send(batch);
          } catch (sendError) {
            // A bug or an event the transport cannot encode: nothing of the batch is handled.
            counts.failed += batch.length;
            forget(batch);
            fail(`delivery failed: ${message(sendError)}`);
            throw sendError;
          }
        });
      } catch (refused) {
        // The limiter takes no new task after a failure: this batch was never sent.
        forget(batch);
        throw refused;
      }
    };
    const flush = async () => {
      const batch = pending;
      pending = [];
      if (batch.length > 0) await dispatch(batch);
    };
    try {
      for await (const listed of deps.source.listTraces(sub, {
        tracker: options.tracker,
        signal,
      })) {
        if (signal.aborted) break;
        const { trace } = listed;
        counts.collected++;
        deps.metrics.tracesCollected(1);
        newest = Math.max(newest ?? trace.time, trace.time);
        // Only the id decides: a trace CTS lists with a time outside the window (it filters on
        // record time, or late) is still a trace nobody delivered yet.
        if (state.seen.has(trace.trace_id)) {
          counts.duplicates++;
          deps.metrics.duplicatesSkipped(1);
          continue;
        }
        // Marked as seen when dispatched (one set, not two, at 200,000 traces a window); a
        // failed delivery removes it again. Kept by the later of time and record time, so a
        // trace recorded late stays known as long as a window can list it again.
        state.seen.add(trace.trace_id, Math.max(trace.time, trace.record_time ?? trace.time));
        let event: TraceEvent;
        try {
          event = traceToCloudEvent(trace, listed.raw, {
            origin: deps.source.origin,
            overrides: options.overrides,
          });
        } catch (mappingError) {
          deps.logger.warn(
            { traceId: trace.trace_id, reason: message(mappingError) },
            "trace cannot be turned into a valid CloudEvent",
          );
          const kept = await deadLetter({
            reason: "invalid_event",
            id: trace.trace_id,
            error: message(mappingError),
            trace: listed.raw,
          });
          if (!kept) {
            counts.failed++;
            state.seen.delete(trace.trace_id);
          }
          continue;
        }
        pending.push({ listed, event });
        if (pending.length >= options.batchSize) await flush();
      }
      if (!signal.aborted) await flush();
    } catch (listingError) {
      error ??= message(listingError);
    }
    try {
      await limiter.drain();
    } catch (taskError) {
      error ??= message(taskError);
    }
    // Traces collected but never handed to the sink (the cycle stopped early) were marked as
    // seen when listed; forget them so the next cycle sends them.
    forget(pending);
    const unsent = pending.length;
    pending = [];
    return error === undefined && unsent === 0 && !options.signal.aborted;
  };

  for (const sub of subWindows(window, options.window.maxSpanMs)) {
    if (!(await runSubWindow(sub))) break;
    if (counts.failed > 0) break;
    state.checkpoint = sub.to;
    state.seen.pruneBefore(forgetBefore(sub.to, options.window));
    deps.metrics.checkpointMoved(sub.to);
    await options.onCommit?.(state);
  }
  if (options.signal.aborted) error ??= "stopped before the window was complete";
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
