import { traceToCloudEvent } from "@cts/shared";
import { deliver, type RetryPolicy } from "./deliver.js";
import { Limiter } from "./limiter.js";
import type { CoreDeps, ListedTrace, TraceEvent } from "./ports.js";
import type { SeenIds } from "./seen-ids.js";
import {
  forgetBefore,
  inWindow,
  nextWindow,
  type TimeWindow,
  type WindowPolicy,
} from "./window.js";

/** What survives between cycles (and, through the state file, between runs). */
export interface PollState {
  /** Everything with a trace time before this was delivered; undefined before the first success. */
  checkpoint: number | undefined;
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
}

export interface CycleSummary {
  readonly window: TimeWindow;
  readonly collected: number;
  readonly sent: number;
  readonly failed: number;
  readonly rejected: number;
  readonly duplicates: number;
  /** Now minus the newest trace's time, when the window held any trace. */
  readonly lagMs: number | undefined;
  readonly durationMs: number;
  /** True when every collected trace was acknowledged (or rejected for good) and listing completed. */
  readonly ok: boolean;
  /** True when every collected trace got a 2xx: what `--once` exits 0 on. */
  readonly allDelivered: boolean;
  readonly checkpoint: number | undefined;
  readonly error?: string;
}

/**
 * One poll-and-deliver cycle: lists the window, skips what was already delivered, maps each
 * trace to a CloudEvent and delivers with bounded concurrency. The checkpoint advances to the
 * window's end only when every trace of the window was dealt with; a delivery that runs out of
 * retries stops the cycle early, since the next cycle re-reads from the unchanged checkpoint.
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
  const window = nextWindow(state.checkpoint, started, options.window);
  const stopCycle = new AbortController();
  const signal = AbortSignal.any([options.signal, stopCycle.signal]);
  const deliverySignal = AbortSignal.any(
    options.deliverySignal === undefined
      ? [stopCycle.signal]
      : [options.deliverySignal, stopCycle.signal],
  );
  const limiter = new Limiter(options.concurrency);
  const counts = { collected: 0, sent: 0, failed: 0, rejected: 0, duplicates: 0 };
  let newest: number | undefined;
  let error: string | undefined;
  let pending: { listed: ListedTrace; event: TraceEvent }[] = [];

  interface Item {
    listed: ListedTrace;
    event: TraceEvent;
  }
  const send = async (batch: readonly Item[]): Promise<void> => {
    const report = await deliver(
      batch.map((item) => item.event),
      { transport: deps.transport, clock: deps.clock, metrics: deps.metrics, retry: options.retry },
      deliverySignal,
    );
    const ids = batch.map((item) => item.event.id);
    if (report.outcome === "delivered") {
      counts.sent += batch.length;
      deps.metrics.eventsDelivered(batch.length, report.status);
    } else if (report.outcome === "rejected" && report.status === 413 && batch.length > 1) {
      // A batch over the sink's body limit is not a bad event: send it again in halves.
      const half = Math.ceil(batch.length / 2);
      await send(batch.slice(0, half));
      await send(batch.slice(half));
    } else if (report.outcome === "rejected") {
      counts.rejected += batch.length;
      deps.metrics.eventsFailed(batch.length, `rejected_${report.status}`);
      deps.logger.warn(
        { eventIds: ids, status: report.status, answer: report.answer },
        "sink rejected event",
      );
      // Knative semantics: a 4xx other than 404/408/409/429 is final; re-sending cannot help,
      // so the ids stay in the seen set like delivered ones.
    } else {
      counts.failed += batch.length;
      // Not delivered: forget them, so the next cycle sends them again.
      for (const item of batch) state.seen.delete(item.listed.trace.trace_id);
      deps.metrics.eventsFailed(batch.length, "retries_exhausted");
      error ??= `delivery failed after ${report.attempts} attempts: ${report.reason}`;
      stopCycle.abort();
    }
  };

  const flush = async () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    await limiter.run(() => send(batch));
  };

  try {
    for await (const listed of deps.source.listTraces(window, {
      tracker: options.tracker,
      signal,
    })) {
      if (signal.aborted) break;
      const { trace } = listed;
      counts.collected++;
      deps.metrics.tracesCollected(1);
      newest = Math.max(newest ?? trace.time, trace.time);
      if (state.seen.has(trace.trace_id) || !inWindow(trace.time, window)) {
        counts.duplicates++;
        deps.metrics.duplicatesSkipped(1);
        continue;
      }
      // Marked as seen when dispatched (one set, not two, at 200,000 traces a window);
      // a failed delivery removes it again.
      state.seen.add(trace.trace_id, trace.time);
      let event: TraceEvent;
      try {
        event = traceToCloudEvent(trace, listed.raw, {
          origin: deps.source.origin,
          overrides: options.overrides,
        });
      } catch (mappingError) {
        counts.rejected++;
        deps.metrics.eventsFailed(1, "invalid_event");
        deps.logger.warn(
          {
            traceId: trace.trace_id,
            reason: mappingError instanceof Error ? mappingError.message : "unknown",
          },
          "trace cannot be turned into a valid CloudEvent; skipped",
        );
        state.seen.add(trace.trace_id, trace.time);
        continue;
      }
      pending.push({ listed, event });
      if (pending.length >= options.batchSize) await flush();
    }
    if (!signal.aborted) await flush();
  } catch (listingError) {
    error ??= listingError instanceof Error ? listingError.message : String(listingError);
  }
  await limiter.drain();
  if (options.signal.aborted) error ??= "stopped before the window was complete";

  // Traces collected but never handed to the sink (the cycle stopped early) were marked as
  // seen when listed; forget them so the next cycle sends them.
  const unsent = pending.length;
  for (const item of pending) state.seen.delete(item.listed.trace.trace_id);
  pending = [];
  const ok = error === undefined && counts.failed === 0 && unsent === 0;
  if (ok) {
    state.checkpoint = window.to;
    state.seen.pruneBefore(forgetBefore(window.to, options.window));
    deps.metrics.checkpointMoved(window.to);
  }
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
