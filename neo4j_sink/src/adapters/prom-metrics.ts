import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { SinkMetrics } from "../core/ports.js";

/**
 * The sink's Prometheus metrics on `registry` (never the global one, so tests and several
 * in-process sinks stay apart). Names follow Prometheus conventions: base units, `_total`.
 */
export function createPromMetrics(registry: Registry): SinkMetrics {
  const registers = [registry];
  const received = new Counter({
    name: "neo4j_sink_events_received_total",
    help: "CloudEvents parsed from requests, by content mode",
    labelNames: ["mode"] as const,
    registers,
  });
  const written = new Counter({
    name: "neo4j_sink_events_written_total",
    help: "Distinct events committed to Neo4j",
    registers,
  });
  const rejected = new Counter({
    name: "neo4j_sink_events_rejected_total",
    help: "Events refused, by reason (requests that could not be parsed count once)",
    labelNames: ["reason"] as const,
    registers,
  });
  const batchSize = new Histogram({
    name: "neo4j_sink_batch_size_events",
    help: "Distinct events per write transaction",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    registers,
  });
  const writeDuration = new Histogram({
    name: "neo4j_sink_write_duration_seconds",
    help: "Duration of one write transaction, commit included",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const neo4jErrors = new Counter({
    name: "neo4j_sink_neo4j_errors_total",
    help: "Failed Neo4j writes and probes, by error code",
    labelNames: ["code"] as const,
    registers,
  });
  const conflicts = new Counter({
    name: "neo4j_sink_event_conflicts_total",
    help: "Events redelivered with an id already stored but other content (the first write is kept)",
    registers,
  });
  const retries = new Counter({
    name: "neo4j_sink_write_retries_total",
    help: "Write transactions tried again after contention (deadlock, lock timeout, transient error)",
    registers,
  });
  const queueDepth = new Gauge({
    name: "neo4j_sink_queue_events",
    help: "Events waiting for the writer",
    registers,
  });
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
