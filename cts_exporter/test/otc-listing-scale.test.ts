import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startSimulator, type Simulator } from "@cts/otc_simulator";

const TRACES = 50_000;
const MiB = 1024 * 1024;
const child = fileURLToPath(new URL("./otc-list-child.ts", import.meta.url));

interface Summary {
  readonly count: number;
  readonly peakRssBytes: number;
  readonly rssBeforeListing: number;
  readonly rssAt10000: number;
  readonly rssAt50000: number;
  readonly heapAfterGcAt10000: number;
  readonly heapAfterGcAt50000: number;
  readonly heapAfterGcAtEnd: number;
}

let sim: Simulator;
let dir: string;
const now = Date.now();
const window = { from: now - 60 * 60_000, to: now - 60_000 };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "otc-scale-"));
  sim = await startSimulator({ seed: 11, preload: { count: TRACES, ...window, lateFraction: 0 } });
});
after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the listing in a child process; its ids stream into the parent, its memory is its own. */
function listInChild(cloud: string): Promise<{ ids: string[]; summary: Summary }> {
  const file = join(dir, "clouds.yaml");
  writeFileSync(file, sim.cloudsYaml());
  const process_ = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=@cts/source", "--expose-gc", child],
    {
      env: {
        PATH: process.env["PATH"],
        LIST_CLOUDS_FILE: file,
        LIST_CLOUD: cloud,
        LIST_FROM: String(window.from),
        LIST_TO: String(window.to),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const ids: string[] = [];
  let summary: Summary | undefined;
  let stderr = "";
  process_.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: process_.stdout }).on("line", (line) => {
    if (line.startsWith("SUMMARY ")) summary = JSON.parse(line.slice(8)) as Summary;
    else ids.push(line);
  });
  return new Promise((resolve, reject) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      process_.kill("SIGKILL");
    }, 50_000);
    process_.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0 && summary !== undefined) resolve({ ids, summary });
      else
        reject(
          new Error(
            `node ${child} ${killed ? "ran over 50 s and was killed" : `exited with ${String(code)}`}: ${stderr}`,
          ),
        );
    });
  });
}

test(`${TRACES} traces in one window are listed exactly once with flat memory`, async (t) => {
  const { ids, summary } = await listInChild("simulator");
  assert.equal(summary.count, TRACES);
  assert.equal(new Set(ids).size, TRACES, "no trace twice");
  assert.deepEqual(new Set(ids), new Set(sim.traceIdsIn(window)), "every trace of the window");
  const growth = summary.heapAfterGcAt50000 - summary.heapAfterGcAt10000;
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  t.diagnostic(
    `RSS ${mib(summary.rssBeforeListing)} before listing, ${mib(summary.rssAt10000)} at 10k, ${mib(summary.rssAt50000)} at 50k traces, peak ${mib(summary.peakRssBytes)}; heap after GC ${mib(summary.heapAfterGcAt10000)} at 10k, ${mib(summary.heapAfterGcAt50000)} at 50k`,
  );
  // Retaining the traces would cost hundreds of MiB; a page at a time costs the same at 10k and 50k.
  assert.ok(
    growth < 8 * MiB,
    `heap grew ${(growth / MiB).toFixed(1)} MiB between 10k and 50k traces`,
  );
});
