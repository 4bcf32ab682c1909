import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ExporterMetrics } from "../core/ports.js";

interface PromMetrics extends ExporterMetrics {
  readonly registry: Registry;
  /** The same metrics labelled with one project and region (CTS_PROJECTS). */
  forProject(labels: { readonly project: string; readonly region: string }): ExporterMetrics;
  /** Traces CTS returned that are not valid traces (skipped by the lister). */
  invalidTrace(): void;
}

/** Set only when the exporter polls several projects (CTS_PROJECTS); absent otherwise. */
const PROJECT_LABELS = ["project", "region"];

/** Prometheus metrics on a registry of their own (never the global one), so tests stay isolated. */
export function createMetrics(now: () => number = Date.now): PromMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "cts_exporter_" });
  const registers = [registry];
  const collected = new Counter({
    name: "cts_exporter_traces_collected_total",
    help: "Traces read from CTS",
    labelNames: PROJECT_LABELS,
    registers,
  });
  const delivered = new Counter({
    name: "cts_exporter_events_delivered_total",
    help: "Events acknowledged by the sink, by HTTP status",
    labelNames: ["status", ...PROJECT_LABELS],
    registers,
  });
  const failed = new Counter({
    name: "cts_exporter_events_failed_total",
    help: "Events not delivered in a cycle (they are sent again later), by reason (refused_<status>, retries_exhausted, rejected_400 or invalid_event with no dead-letter file)",
    labelNames: ["reason", ...PROJECT_LABELS],
    registers,
  });
  const deadLettered = new Counter({
    name: "cts_exporter_events_dead_lettered_total",
    help: "Events written to CTS_DEAD_LETTER_FILE instead of the sink, by reason (rejected_400, invalid_event)",
    labelNames: ["reason", ...PROJECT_LABELS],
    registers,
  });
  const retries = new Counter({
    name: "cts_exporter_retries_total",
    help: "Delivery retries, by the status or error that caused them",
    labelNames: ["reason", ...PROJECT_LABELS],
    registers,
  });
  const duplicates = new Counter({
    name: "cts_exporter_duplicates_skipped_total",
    help: "Traces skipped because they were already delivered (window overlap)",
    labelNames: PROJECT_LABELS,
    registers,
  });
  const invalid = new Counter({
    name: "cts_exporter_invalid_traces_total",
    help: "Traces CTS returned that failed validation and were skipped",
    registers,
  });
  const cycles = new Histogram({
    name: "cts_exporter_cycle_duration_seconds",
    help: "Duration of poll-and-deliver cycles",
    labelNames: ["outcome", ...PROJECT_LABELS],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers,
  });
  const checkpoints = new Map<string, { labels: Record<string, string>; value: number }>();
  new Gauge({
    name: "cts_exporter_checkpoint_age_seconds",
    help: "Seconds since the checkpoint (everything before it was delivered); absent before the first success",
    labelNames: PROJECT_LABELS,
    registers,
    collect() {
      for (const { labels, value } of checkpoints.values())
        this.set(labels, (now() - value) / 1000);
    },
  });
  const bind = (labels: Record<string, string>): ExporterMetrics => ({
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
      checkpoints.set(JSON.stringify(labels), { labels, value });
    },
  });
  return {
    registry,
    ...bind({}),
    forProject: (labels) => bind({ project: labels.project, region: labels.region }),
    invalidTrace: () => {
      invalid.inc();
    },
  };
}
