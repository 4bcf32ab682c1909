import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { trace, TraceFlags } from "@opentelemetry/api";
import { DataPointType } from "@opentelemetry/sdk-metrics";
import { exportersOf, metricsProtocol, telemetryWanted } from "./otel-env.js";
import { promToMetricData } from "./prom-bridge.js";
import { contextFromTraceparent, traceContextFields } from "./trace-context.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

describe("OTEL_* environment", () => {
  test("telemetry starts only with an OTLP endpoint and without OTEL_SDK_DISABLED=true", () => {
    assert.equal(telemetryWanted({}), false);
    assert.equal(telemetryWanted({ OTEL_SERVICE_NAME: "x" }), false);
    assert.equal(telemetryWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: " " }), false);
    assert.equal(telemetryWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }), true);
    assert.equal(
      telemetryWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }),
      true,
    );
    assert.equal(
      telemetryWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "TRUE" }),
      false,
    );
    assert.equal(
      telemetryWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "false" }),
      true,
    );
  });

  test("exporter lists and the metrics protocol follow the spec's defaults", () => {
    assert.deepEqual(exportersOf(undefined), ["otlp"]);
    assert.deepEqual(exportersOf(" OTLP, console "), ["otlp", "console"]);
    assert.equal(metricsProtocol({}), "http/protobuf");
    assert.equal(metricsProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }), "grpc");
    assert.equal(
      metricsProtocol({
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/json",
      }),
      "http/json",
    );
  });
});

describe("W3C trace context", () => {
  test("a span context becomes traceparent/tracestate and back", () => {
    const context = contextFromTraceparent(
      `00-${TRACE_ID}-${SPAN_ID}-01`,
      "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7",
    );
    assert.ok(context);
    const span = trace.getSpanContext(context);
    assert.ok(span);
    assert.deepEqual(
      [span.traceId, span.spanId, span.traceFlags, span.isRemote],
      [TRACE_ID, SPAN_ID, TraceFlags.SAMPLED, true],
    );
    assert.equal(span.traceState?.get("rojo"), "00f067aa0ba902b7");
    assert.deepEqual(traceContextFields(span), {
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
      tracestate: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
    });
    assert.deepEqual(traceContextFields({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 }), {
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`,
    });
  });

  test("invalid traceparents are no parent", () => {
    for (const value of [
      undefined,
      "",
      "garbage",
      `00-${"0".repeat(32)}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${"0".repeat(16)}-01`,
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`,
    ]) {
      assert.equal(contextFromTraceparent(value), undefined, String(value));
    }
    assert.ok(
      contextFromTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-future`),
      "a later version may add fields",
    );
  });
});

describe("prom-client metrics as OpenTelemetry data", () => {
  const times = { start: [1, 0] as [number, number], now: [2, 0] as [number, number] };

  test("counters lose _total, gauges stay, histograms get per-bucket counts", () => {
    const data = promToMetricData(
      [
        {
          name: "svc_events_total",
          help: "events",
          type: "counter",
          values: [{ value: 5, labels: { status: "202" } }],
        },
        { name: "svc_queue", help: "queue", type: "gauge", values: [{ value: 3, labels: {} }] },
        {
          name: "svc_seconds",
          help: "latency",
          type: "histogram",
          values: [
            { value: 1, labels: { le: 0.1, op: "w" }, metricName: "svc_seconds_bucket" },
            { value: 4, labels: { le: 1, op: "w" }, metricName: "svc_seconds_bucket" },
            { value: 6, labels: { le: "+Inf", op: "w" }, metricName: "svc_seconds_bucket" },
            { value: 7.5, labels: { op: "w" }, metricName: "svc_seconds_sum" },
            { value: 6, labels: { op: "w" }, metricName: "svc_seconds_count" },
          ],
        },
        {
          name: "svc_summary",
          help: "s",
          type: "summary",
          values: [{ value: 1, labels: { quantile: 0.5 } }],
        },
      ],
      times,
    );
    assert.deepEqual(
      data.map((metric) => [metric.descriptor.name, metric.dataPointType]),
      [
        ["svc_events", DataPointType.SUM],
        ["svc_queue", DataPointType.GAUGE],
        ["svc_seconds", DataPointType.HISTOGRAM],
      ],
    );
    const [counter, , histogram] = data;
    assert.ok(counter?.dataPointType === DataPointType.SUM && counter.isMonotonic);
    assert.deepEqual(counter.dataPoints[0]?.attributes, { status: "202" });
    assert.ok(histogram?.dataPointType === DataPointType.HISTOGRAM);
    const [point] = histogram.dataPoints;
    assert.ok(point);
    assert.deepEqual(point.attributes, { op: "w" });
    assert.deepEqual(point.value, {
      buckets: { boundaries: [0.1, 1], counts: [1, 3, 2] },
      sum: 7.5,
      count: 6,
    });
  });
});
