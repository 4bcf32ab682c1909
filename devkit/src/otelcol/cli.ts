/**
 * `pnpm otelcol build|start|stop|status|traces`: a local OpenTelemetry Collector (OTLP in,
 * JSON-lines files out) built from the Go module proxy into `.otelcol/`. `start` prints the
 * OTLP endpoint as its last line, for OTEL_EXPORTER_OTLP_ENDPOINT; `traces` prints the latest
 * traces it received as trees.
 */
import { join } from "node:path";
import { runCli } from "../cli-runner.js";
import {
  ensureCollector,
  OTELCOL_CACHE,
  OTELCOL_VERSION,
  runningCollector,
  startCollector,
  stopCollector,
  tracesFileIn,
} from "./collector.js";
import { formatTrace, readSpans } from "./spans.js";

const progress = (line: string) => {
  process.stderr.write(`otelcol: ${line}\n`);
};

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name}="${raw}" is not a TCP port; use a number between 1 and 65535`);
  }
  return value;
}

async function main(command: string | undefined): Promise<number> {
  const dir = process.env["OTELCOL_DIR"] ?? join(OTELCOL_CACHE, "dev");
  const httpPort = port("OTELCOL_HTTP_PORT", 4318);
  switch (command) {
    case "build":
      process.stdout.write(`${ensureCollector(progress)}\n`);
      return 0;
    case "start": {
      const pid = runningCollector(dir);
      if (pid !== undefined) {
        progress(`already running (pid ${pid})`);
        process.stdout.write(`http://127.0.0.1:${httpPort}\n`);
        return 0;
      }
      const collector = await startCollector(
        { dir, httpPort, grpcPort: port("OTELCOL_GRPC_PORT", 4317), detached: true },
        progress,
      );
      progress(`OpenTelemetry Collector ${OTELCOL_VERSION} running (pid ${collector.pid})`);
      progress(`spans: ${collector.tracesFile}  metrics: ${collector.metricsFile}`);
      process.stdout.write(`${collector.endpoint}\n`);
      return 0;
    }
    case "stop":
      progress((await stopCollector(dir)) ? "stopped" : "not running");
      return 0;
    case "status": {
      const pid = runningCollector(dir);
      progress(
        pid === undefined ? "not running" : `running (pid ${pid}), spans in ${tracesFileIn(dir)}`,
      );
      return pid === undefined ? 1 : 0;
    }
    case "traces": {
      const spans = readSpans(tracesFileIn(dir));
      const roots = spans.filter((span) => span.parentSpanId === "");
      const latest = roots.sort((a, b) => (a.startNs < b.startNs ? 1 : -1)).slice(0, 3);
      if (latest.length === 0) progress(`no traces in ${tracesFileIn(dir)} yet`);
      for (const root of latest.reverse())
        process.stdout.write(`${formatTrace(root.traceId, spans)}\n`);
      return 0;
    }
    default:
      process.stderr.write("usage: pnpm otelcol build|start|stop|status|traces\n");
      return 64;
  }
}

runCli("otelcol", () => main(process.argv[2]));
