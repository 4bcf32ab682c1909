/**
 * The cts_exporter process (docs/event-contract.md sections 4 and 5): signals, and the exit code
 * `runExporter` returns; `EXIT.crashed` if something unexpected escapes it.
 */
import { startTelemetry } from "@cts/shared";
import { EXIT } from "./exit-codes.js";
import { runExporter } from "./run.js";

const controller = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    controller.abort();
  });
}

async function main(): Promise<number> {
  // Before anything else, so the first cycle is traced; without an OTLP endpoint in the
  // environment this loads nothing.
  const telemetry = await startTelemetry({ env: process.env, serviceName: "cts_exporter" });
  try {
    return await runExporter({
      env: process.env,
      argv: process.argv.slice(2),
      stdout: process.stdout,
      signal: controller.signal,
    });
  } finally {
    await telemetry.shutdown();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `cts_exporter: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = EXIT.crashed;
  },
);
