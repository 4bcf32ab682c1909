import type { Env } from "../env.js";
/**
 * The OpenTelemetry SDK set-up, imported only when telemetry is wanted (start.ts), so a service
 * without an OTLP endpoint never loads it. The SDK reads the standard OTEL_* variables itself;
 * the only things decided here are the service name's default, no auto-instrumentation (the
 * services create their own few spans), and a metric reader that also exports the prom-client
 * registries.
 */
import { OTLPMetricExporter as GrpcMetricExporter } from "@opentelemetry/exporter-metrics-otlp-grpc";
import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtoMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { exportersOf, metricsProtocol } from "./otel-env.js";
import { createPromMetricProducer, type PromRegistryLike } from "./prom-bridge.js";

function metricExporter(env: Env): PushMetricExporter {
  switch (metricsProtocol(env)) {
    case "grpc":
      return new GrpcMetricExporter();
    case "http/json":
      return new JsonMetricExporter();
    case "http/protobuf":
      return new ProtoMetricExporter();
  }
}

function positive(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

/** Starts and registers the SDK; returns its shutdown, which flushes what is buffered. */
export function startSdk(options: {
  readonly env: Env;
  readonly serviceName: string;
  readonly registries: () => readonly PromRegistryLike[];
}): () => Promise<void> {
  const { env } = options;
  const named =
    (env["OTEL_SERVICE_NAME"] ?? "").trim() !== "" ||
    /(^|,)\s*service\.name\s*=/.test(env["OTEL_RESOURCE_ATTRIBUTES"] ?? "");
  const metricsExporters = exportersOf(env["OTEL_METRICS_EXPORTER"]);
  // Our reader when metrics go over OTLP (the prom-client registries ride along); none for
  // "none"; otherwise the SDK's own reading of OTEL_METRICS_EXPORTER.
  const interval = positive(env["OTEL_METRIC_EXPORT_INTERVAL"], 60_000);
  const metricReaders = metricsExporters.includes("otlp")
    ? [
        new PeriodicExportingMetricReader({
          exporter: metricExporter(env),
          exportIntervalMillis: interval,
          // The reader refuses a timeout longer than the interval.
          exportTimeoutMillis: Math.min(
            interval,
            positive(env["OTEL_METRIC_EXPORT_TIMEOUT"], 30_000),
          ),
          metricProducers: [createPromMetricProducer(options.registries)],
        }),
      ]
    : metricsExporters.includes("none")
      ? []
      : undefined;
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName: options.serviceName }),
    instrumentations: [],
    ...(metricReaders === undefined ? {} : { metricReaders }),
  });
  sdk.start();
  return () => sdk.shutdown();
}
