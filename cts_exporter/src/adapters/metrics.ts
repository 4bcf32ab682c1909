import { collectDefaultMetrics, Registry } from "prom-client";
import { promMetricsOn } from "@cts/shared";
import type { ExporterMetrics } from "../core/ports.js";

interface PromMetrics extends ExporterMetrics {
  readonly registry: Registry;
  /** The same metrics labelled with one project and region (CTS_PROJECTS). */
  forProject(labels: { readonly project: string; readonly region: string }): ExporterMetrics;
  /** An entry CTS listed that is not a valid trace (the cycle dead-letters it). */
  invalidTrace(): void;
}

/** Set only when the exporter polls several projects (CTS_PROJECTS); absent otherwise. */
const PROJECT_LABELS = ["project", "region"];

/** Every exporter metric on `registry`; the checkpoint age is computed when scraped, from `now`. */
function defineMetrics(registry: Registry, now: () => number) {
  const metric = promMetricsOn(registry);
  const collected = metric.counter("cts_exporter_traces_collected_total", "Traces read from CTS", {
    labelNames: PROJECT_LABELS,
  });
  const delivered = metric.counter(
    "cts_exporter_events_delivered_total",
    "Events acknowledged by the sink, by HTTP status",
    { labelNames: ["status", ...PROJECT_LABELS] },
  );
  const failed = metric.counter(
    "cts_exporter_events_failed_total",
    "Events not delivered in a cycle (they are sent again later), by reason (refused_<status>, retries_exhausted, rejected_400 or invalid_event with no dead-letter file)",
    { labelNames: ["reason", ...PROJECT_LABELS] },
  );
  const deadLettered = metric.counter(
    "cts_exporter_events_dead_lettered_total",
    "Events written to CTS_DEAD_LETTER_FILE instead of the sink, by reason (rejected_400, invalid_event)",
    { labelNames: ["reason", ...PROJECT_LABELS] },
  );
  const retries = metric.counter(
    "cts_exporter_retries_total",
    "Delivery retries, by the status or error that caused them",
    { labelNames: ["reason", ...PROJECT_LABELS] },
  );
  const duplicates = metric.counter(
    "cts_exporter_duplicates_skipped_total",
    "Traces skipped because they were already delivered (window overlap)",
    { labelNames: PROJECT_LABELS },
  );
  const invalid = metric.counter(
    "cts_exporter_invalid_traces_total",
    "Entries CTS listed that are not valid traces (written to the dead-letter file, or the cycle fails)",
  );
  const cycles = metric.histogram(
    "cts_exporter_cycle_duration_seconds",
    "Duration of poll-and-deliver cycles",
    { labelNames: ["outcome", ...PROJECT_LABELS], buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900] },
  );
  const checkpoints = new Map<string, { labels: Record<string, string>; value: number }>();
  metric.gauge(
    "cts_exporter_checkpoint_age_seconds",
    "Seconds since the checkpoint (everything before it was delivered); absent before the first success",
    {
      labelNames: PROJECT_LABELS,
      collect() {
        for (const { labels, value } of checkpoints.values())
          this.set(labels, (now() - value) / 1000);
      },
    },
  );
  return {
    collected,
    delivered,
    failed,
    deadLettered,
    retries,
    duplicates,
    invalid,
    cycles,
    /** The last checkpoint per label set (one per project). */
    checkpoints,
  };
}

/** The core's metrics port over `metrics`, every sample labelled with `labels`. */
function bindTo(
  metrics: ReturnType<typeof defineMetrics>,
  labels: Record<string, string>,
): ExporterMetrics {
  const { collected, delivered, failed, deadLettered, retries, duplicates, cycles } = metrics;
  return {
    tracesCollected: (count) => {
      collected.inc(labels, count);
    },
    eventsDelivered: (count, status) => {
      delivered.inc({ ...labels, status: String(status) }, count);
    },
    eventsFailed: (count, reason) => {
      failed.inc({ ...labels, reason }, count);
    },
    eventsDeadLettered: (count, reason) => {
      deadLettered.inc({ ...labels, reason }, count);
    },
    retried: (reason) => {
      retries.inc({ ...labels, reason });
    },
    duplicatesSkipped: (count) => {
      duplicates.inc(labels, count);
    },
    cycleFinished: (seconds, ok) => {
      cycles.observe({ ...labels, outcome: ok ? "ok" : "failed" }, seconds);
    },
    checkpointMoved: (value) => {
      metrics.checkpoints.set(JSON.stringify(labels), { labels, value });
    },
  };
}

/** Prometheus metrics on a registry of their own (never the global one), so tests stay isolated. */
export function createMetrics(now: () => number = Date.now): PromMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "cts_exporter_" });
  const metrics = defineMetrics(registry, now);
  return {
    registry,
    ...bindTo(metrics, {}),
    forProject: (labels) => bindTo(metrics, { project: labels.project, region: labels.region }),
    invalidTrace: () => {
      metrics.invalid.inc();
    },
  };
}
