import { parseRetryAfter } from "@cts/shared";
import { classifyStatus } from "./delivery-policy.js";
import type { Clock, EventTransport, ExporterMetrics, TraceEvent } from "./ports.js";

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
  /** Delay before attempt `attempt + 1` (attempt counts from 1); the sink's Retry-After if any. */
  nextDelayMs(attempt: number, retryAfter: number | undefined): number;
}

type DeliveryReport =
  | { readonly outcome: "delivered"; readonly status: number; readonly attempts: number }
  | {
      readonly outcome: "rejected";
      readonly status: number;
      readonly attempts: number;
      readonly answer: string;
    }
  | { readonly outcome: "failed"; readonly attempts: number; readonly reason: string };

interface DeliverDeps {
  readonly transport: EventTransport;
  readonly clock: Clock;
  readonly metrics: ExporterMetrics;
  readonly retry: RetryPolicy;
}

const ANSWER_LIMIT = 500;

/**
 * Hands one request's events to the sink, retrying what the Knative table says is retryable
 * with backoff, until it is acknowledged, rejected, out of attempts or aborted.
 */
export async function deliver(
  events: readonly TraceEvent[],
  deps: DeliverDeps,
  signal: AbortSignal,
): Promise<DeliveryReport> {
  let reason = "not attempted";
  for (let attempt = 1; attempt <= deps.retry.maxAttempts; attempt++) {
    if (signal.aborted)
      return { outcome: "failed", attempts: attempt - 1, reason: "shutting down" };
    const result = await deps.transport.attempt(events, signal);
    let retryAfter: number | undefined;
    if (result.kind === "response") {
      const outcome = classifyStatus(result.status);
      if (outcome === "delivered") return { outcome, status: result.status, attempts: attempt };
      if (outcome === "rejected") {
        return {
          outcome,
          status: result.status,
          attempts: attempt,
          answer: result.body.slice(0, ANSWER_LIMIT),
        };
      }
      reason = `HTTP ${result.status}`;
      retryAfter = parseRetryAfter(result.retryAfter, deps.clock.now());
    } else {
      reason = result.message;
    }
    if (attempt === deps.retry.maxAttempts) break;
    deps.metrics.retried(result.kind === "response" ? String(result.status) : "network");
    try {
      await deps.clock.sleep(deps.retry.nextDelayMs(attempt, retryAfter), signal);
    } catch {
      return { outcome: "failed", attempts: attempt, reason: "shutting down" };
    }
  }
  return { outcome: "failed", attempts: deps.retry.maxAttempts, reason };
}
