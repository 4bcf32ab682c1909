import type { Env } from "../env.js";

const ENDPOINT_VARIABLES = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
] as const;

const set = (value: string | undefined): boolean => value !== undefined && value.trim() !== "";

/**
 * Whether a service should load the OpenTelemetry SDK: only when an OTLP endpoint is configured
 * and OTEL_SDK_DISABLED is not "true" (case-insensitive, as the SDK reads it). Everything else
 * (service name, sampler, protocol, batch sizes, resource attributes) is left to the SDK's own
 * reading of the standard variables.
 */
export function telemetryWanted(env: Env): boolean {
  if (env["OTEL_SDK_DISABLED"]?.trim().toLowerCase() === "true") return false;
  return ENDPOINT_VARIABLES.some((name) => set(env[name]));
}

/** Which exporters a `OTEL_*_EXPORTER` list names; the spec's default is `otlp`. */
export function exportersOf(value: string | undefined): readonly string[] {
  if (!set(value)) return ["otlp"];
  return (value ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
}

/** The OTLP protocol for metrics: the signal-specific variable, then the general one. */
export function metricsProtocol(env: Env): "grpc" | "http/protobuf" | "http/json" {
  const value = (
    env["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"] ??
    env["OTEL_EXPORTER_OTLP_PROTOCOL"] ??
    "http/protobuf"
  )
    .trim()
    .toLowerCase();
  return value === "grpc" || value === "http/json" ? value : "http/protobuf";
}
