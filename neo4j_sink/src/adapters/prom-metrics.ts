import type { Registry } from "prom-client";
import { promMetricsOn } from "@cts/shared";
import type { SinkMetrics } from "../core/ports.js";

/**
 * The sink's Prometheus metrics on `registry`. Names follow Prometheus conventions: base units,
 * `_total`.
 */
export function createPromMetrics(registry: Registry): SinkMetrics {
  const metric = promMetricsOn(registry);
  const received = metric.counter(
    "neo4j_sink_events_received_total",
    "CloudEvents parsed from requests, by content mode",
    { labelNames: ["mode"] },
  );
  const written = metric.counter(
    "neo4j_sink_events_written_total",
    "Distinct events committed to Neo4j",
  );
  const rejected = metric.counter(
    "neo4j_sink_events_rejected_total",
    "Events refused, by reason (requests that could not be parsed count once)",
    { labelNames: ["reason"] },
  );
  const batchSize = metric.histogram(
    "neo4j_sink_batch_size_events",
    "Distinct events per write transaction",
    { buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
  );
  const writeDuration = metric.histogram(
    "neo4j_sink_write_duration_seconds",
    "Duration of one write transaction, commit included",
    { buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  );
  const neo4jErrors = metric.counter(
    "neo4j_sink_neo4j_errors_total",
    "Failed Neo4j writes and probes, by error code",
    { labelNames: ["code"] },
  );
  const conflicts = metric.counter(
    "neo4j_sink_event_conflicts_total",
    "Events redelivered with an id already stored but other content (the first write is kept)",
  );
  const retries = metric.counter(
    "neo4j_sink_write_retries_total",
    "Write transactions tried again after contention (deadlock, lock timeout, transient error)",
  );
  const queueDepth = metric.gauge("neo4j_sink_queue_events", "Events waiting for the writer");
  return {
    received: (mode, events) => {
      received.inc({ mode }, events);
    },
    rejected: (reason, events) => {
      rejected.inc({ reason }, events);
    },
    batchCommitted: (events, seconds) => {
      written.inc(events);
      batchSize.observe(events);
      writeDuration.observe(seconds);
    },
    neo4jError: (code) => {
      neo4jErrors.inc({ code });
    },
    eventConflicts: (events) => {
      conflicts.inc(events);
    },
    writeRetried: () => {
      retries.inc();
    },
    queueDepth: (events) => {
      queueDepth.set(events);
    },
  };
}
