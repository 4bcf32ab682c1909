/** Composition root of the cts_exporter process (docs/event-contract.md sections 4 and 5). */
import { runExporter } from "./run.js";

const controller = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    controller.abort();
  });
}

runExporter({
  env: process.env,
  argv: process.argv.slice(2),
  stdout: process.stdout,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `cts_exporter: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
