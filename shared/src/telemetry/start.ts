import type { Env } from "../env.js";
import type { Logger } from "pino";
import { telemetryWanted } from "./otel-env.js";
import type { PromRegistryLike } from "./prom-bridge.js";

/** The process's telemetry: on (the SDK is registered) or off (nothing loaded). */
export interface Telemetry {
  readonly enabled: boolean;
  /** Flushes buffered spans and metrics; call before the process exits. */
  shutdown(): Promise<void>;
}

// The OpenTelemetry API is process-global (one tracer provider per process), so this flag is too.
let active = false;
const registries: PromRegistryLike[] = [];

/** True once `startTelemetry` registered the SDK: span code runs only then. */
export function telemetryActive(): boolean {
  return active;
}

/**
 * Exports a prom-client registry's metrics over OTLP too, at every metric export. Does nothing
 * when telemetry is off, so callers need not check.
 */
export function exportPromRegistry(registry: PromRegistryLike): void {
  if (active && !registries.includes(registry)) registries.push(registry);
}

/**
 * Starts OpenTelemetry from the standard OTEL_* variables when an OTLP endpoint is set and
 * OTEL_SDK_DISABLED is not "true"; otherwise returns at once without loading the SDK. The
 * SDK's own errors (a collector that is down, say) go to its diagnostic logger, never to the
 * caller: telemetry must not stop the service.
 */
export async function startTelemetry(options: {
  readonly env: Env;
  /** service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES sets one. */
  readonly serviceName: string;
  readonly logger?: Logger;
}): Promise<Telemetry> {
  if (active || !telemetryWanted(options.env)) {
    return { enabled: active, shutdown: () => Promise.resolve() };
  }
  let shutdown: () => Promise<void>;
  try {
    const { startSdk } = await import("./sdk.js");
    shutdown = startSdk({
      env: options.env,
      serviceName: options.serviceName,
      registries: () => registries,
    });
  } catch (error) {
    options.logger?.warn(
      { err: error instanceof Error ? error.message : String(error) },
      "OpenTelemetry could not start; running without it (check the OTEL_* variables)",
    );
    return { enabled: false, shutdown: () => Promise.resolve() };
  }
  active = true;
  options.logger?.info(
    {
      endpoint:
        options.env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ??
        options.env["OTEL_EXPORTER_OTLP_ENDPOINT"] ??
        options.env["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"],
      sampler: options.env["OTEL_TRACES_SAMPLER"] ?? "parentbased_always_on",
    },
    "OpenTelemetry on: exporting spans and metrics over OTLP",
  );
  let done: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () =>
      (done ??= shutdown().then(
        () => {
          active = false;
          registries.length = 0;
        },
        (error: unknown) => {
          active = false;
          options.logger?.warn(
            { err: error instanceof Error ? error.message : String(error) },
            "OpenTelemetry shutdown could not flush everything",
          );
        },
      )),
  };
}
