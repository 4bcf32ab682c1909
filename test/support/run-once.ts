import { PassThrough } from "node:stream";
import { runExporter } from "@cts/cts_exporter";
import type { ManualClock } from "@cts/otc_simulator";

/**
 * One `--once` run of the exporter in this process: its stdout and logs go to `onOutput`, and
 * with a simulator's manual clock its waits advance that clock instead of sleeping, so hours of
 * polling take milliseconds.
 */
export function runExporterOnce(options: {
  env: Record<string, string>;
  flags?: readonly string[];
  clock?: ManualClock;
  onOutput?: (text: string) => void;
}): Promise<number> {
  const out = new PassThrough();
  const { onOutput, clock } = options;
  if (onOutput === undefined) out.resume();
  else
    out.on("data", (chunk: Buffer) => {
      onOutput(chunk.toString("utf8"));
    });
  return runExporter({
    env: options.env,
    argv: ["--once", ...(options.flags ?? [])],
    stdout: out,
    logDestination: out,
    signal: new AbortController().signal,
    ...(clock === undefined
      ? {}
      : {
          clock: {
            now: () => clock.now(),
            sleep: (ms: number) => {
              clock.advance(ms);
              return Promise.resolve();
            },
          },
        }),
  });
}
