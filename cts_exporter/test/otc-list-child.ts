/**
 * Child process of otc-listing-scale.test.ts: lists one window with the real client and
 * streams the trace ids to stdout without keeping them, so its memory is the client's alone.
 * The last line is a JSON summary: count, peak RSS, RSS and heap after GC at two points.
 * Run with --expose-gc. Input (env): LIST_CLOUDS_FILE, LIST_CLOUD, LIST_FROM, LIST_TO.
 */
import { dirname } from "node:path";
import { createLogger } from "@cts/shared";
import { loadCloudConfig } from "../src/cloud-config/index.js";
import { createOtcClient } from "../src/otc/index.js";

const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const env = process.env;
  const file = env["LIST_CLOUDS_FILE"] ?? "";
  const sandbox = dirname(file); // no secure.yaml of the developer's is ever merged in
  const config = loadCloudConfig(
    { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: env["LIST_CLOUD"] },
    { cwd: sandbox, home: sandbox, etc: sandbox },
  );
  const client = await createOtcClient(config, {
    logger: createLogger({ name: "list-child", level: "warn", destination: process.stderr }),
  });
  const window = { from: Number(env["LIST_FROM"]), to: Number(env["LIST_TO"]) };
  const checkpoints: Record<string, number> = { rssBeforeListing: process.memoryUsage().rss };
  let count = 0;
  let peakRss = process.memoryUsage().rss;
  let chunk: string[] = [];
  for await (const { trace } of client.listTraces(window, { tracker: "system" })) {
    chunk.push(trace.trace_id);
    count++;
    if (count % 1000 === 0) {
      process.stdout.write(`${chunk.join("\n")}\n`);
      chunk = [];
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    if (count === 10_000 || count === 50_000) {
      checkpoints[`rssAt${count}`] = process.memoryUsage().rss;
      checkpoints[`heapAfterGcAt${count}`] = heapAfterGc();
    }
  }
  if (chunk.length > 0) process.stdout.write(`${chunk.join("\n")}\n`);
  const summary = {
    count,
    peakRssBytes: Math.max(peakRss, process.resourceUsage().maxRSS * 1024),
    ...checkpoints,
    heapAfterGcAtEnd: heapAfterGc(),
  };
  process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`list-child: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
