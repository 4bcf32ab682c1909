/**
 * Load (issue 8, item 4): 200 connections for LOAD_TEST_SECONDS (60 by default, which CI keeps)
 * against the sink as a child process on the real test Neo4j, each connection a sequential
 * keep-alive loop of realistic binary-mode events (the simulator's traffic, as the exporter
 * sends it). While Neo4j is healthy the contract allows no 5xx (a 503 would mean the write
 * queue bound was hit), the sink's memory stays bounded, and afterwards every acknowledged
 * event is in Neo4j. Speed is reported, never asserted: the machine is shared.
 */
import assert from "node:assert/strict";
import { Agent } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import {
  freshNeo4j,
  httpPost,
  memoryOf,
  MiB,
  startSinkProcess,
  type SinkProcess,
  type TestNeo4j,
  type WireRequest,
} from "@cts/devkit";
import { startSimulator } from "@cts/otc_simulator";
import { binaryMessage, CtsTrace, traceToCloudEvent, type RawCtsTrace } from "@cts/shared";
import { assertNoSecrets } from "./support/secrets.js";

const CONNECTIONS = 200;
const SECONDS = Number(process.env["LOAD_TEST_SECONDS"] ?? 60);
/**
 * The sink runs from TypeScript through tsx (about 150 MiB idle); 200 requests in flight and
 * one writer must not grow it without bound.
 */
const PEAK_RSS_BOUND = 512 * MiB;

/** Realistic traces: the simulator's generated traffic (logins, ECS/VPC/OBS, odd names...). */
async function realisticTraces(count: number): Promise<{
  traces: RawCtsTrace[];
  origin: { source: string; region: string; projectId: string; domainId: string };
}> {
  const now = Date.now();
  const window = { from: now - 60 * 60_000, to: now - 60_000 };
  const sim = await startSimulator({ seed: 2026, preload: { count, ...window, lateFraction: 0 } });
  try {
    const traces = sim.traceIdsIn(window).map((id) => sim.trace(id)!);
    const origin = {
      source: `https://cts.${sim.region}.otc.t-systems.com/v3/${sim.projectId}`,
      region: sim.region,
      projectId: sim.projectId,
      domainId: sim.domainId,
    };
    return { traces, origin };
  } finally {
    await sim.close();
  }
}

/** One trace's binary-mode request with a slot for the id, so a request costs no mapping. */
interface Template {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: readonly [string, string];
}

const ID_SLOT = "LOADIDSLOT";

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe(`load: ${CONNECTIONS} connections for ${SECONDS} s against the sink`, () => {
  let neo: TestNeo4j;
  let sink: SinkProcess;
  let templates: Template[];

  before(async () => {
    neo = await freshNeo4j();
    sink = await startSinkProcess(neo);
    const { traces, origin } = await realisticTraces(2_000);
    templates = traces.map((raw) => {
      const slotted = { ...raw, trace_id: ID_SLOT };
      const message = binaryMessage(
        traceToCloudEvent(CtsTrace.parse(slotted), slotted, { origin }),
      );
      const [head, tail, ...rest] = message.body.split(JSON.stringify(ID_SLOT));
      assert.ok(head !== undefined && tail !== undefined && rest.length === 0, "one id slot");
      return { headers: message.headers, body: [head, tail] as const };
    });
  });
  after(async () => {
    await sink.process.stop();
    await neo.close();
  });

  test("no 5xx, bounded memory, every 202 stored", async (t) => {
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const statuses = new Map<number, number>();
    const acknowledged: string[] = [];
    const latencies: number[] = [];
    const errors: string[] = [];
    let peakRss = memoryOf(sink.pid).rssBytes;
    let peakQueue = 0;
    const started = Date.now();
    const deadline = started + SECONDS * 1000;

    let sequence = 0;
    const request = (): { id: string; message: WireRequest } => {
      sequence++;
      const template = templates[sequence % templates.length]!;
      const id = `load-${sequence}`;
      return {
        id,
        message: {
          headers: { ...template.headers, "ce-id": id },
          body: `${template.body[0]}${JSON.stringify(id)}${template.body[1]}`,
        },
      };
    };
    const connection = async () => {
      while (Date.now() < deadline) {
        const { id, message } = request();
        const sent = process.hrtime.bigint();
        try {
          const answer = await httpPost(sink.url, message, { agent, timeoutMs: 30_000 });
          latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status === 202) acknowledged.push(id);
          else if (errors.length < 5) errors.push(`${answer.status} ${answer.body.slice(0, 200)}`);
        } catch (error) {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
          if (errors.length < 5) errors.push((error as Error).message);
        }
      }
    };
    /** Memory every second, the write queue from /metrics every two: the 503 diagnosis. */
    const watch = async () => {
      for (let tick = 0; Date.now() < deadline; tick++) {
        peakRss = Math.max(peakRss, memoryOf(sink.pid).rssBytes);
        if (tick % 2 === 0) {
          const metrics = await fetch(`${sink.url}/metrics`, { signal: AbortSignal.timeout(5_000) })
            .then((response) => response.text())
            .catch(() => "");
          const queued = /^neo4j_sink_queue_events (\d+)/m.exec(metrics);
          if (queued !== null) peakQueue = Math.max(peakQueue, Number(queued[1]));
        }
        await sleep(1_000);
      }
    };
    await Promise.all([...Array.from({ length: CONNECTIONS }, connection), watch()]);
    const seconds = (Date.now() - started) / 1000;
    agent.destroy();

    const sorted = Float64Array.from(latencies).sort();
    const memory = memoryOf(sink.pid);
    const total = latencies.length + (statuses.get(0) ?? 0);
    t.diagnostic(
      `${total} requests in ${seconds.toFixed(1)} s over ${CONNECTIONS} connections: ` +
        `${(total / seconds).toFixed(0)} requests/s, ${(acknowledged.length / seconds).toFixed(0)} events stored/s`,
    );
    t.diagnostic(
      `latency p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, ` +
        `max ${percentile(sorted, 100).toFixed(1)} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    t.diagnostic(
      `sink peak RSS (VmHWM) ${(memory.peakRssBytes / MiB).toFixed(0)} MiB (sampled ${(peakRss / MiB).toFixed(0)} MiB, bound ${PEAK_RSS_BOUND / MiB} MiB); ` +
        `write queue peak ${peakQueue} events (503 beyond SINK_QUEUE_MAX_EVENTS, 20000)`,
    );

    assert.ok(total > CONNECTIONS, `the load ran (${total} requests)`);
    assert.deepEqual(
      [...statuses.keys()].filter((status) => status !== 202),
      [],
      `every request got 202 while Neo4j was healthy (queue peak ${peakQueue}): ${errors.join(" | ")}`,
    );
    assert.ok(memory.peakRssBytes < PEAK_RSS_BOUND, `peak RSS ${memory.peakRssBytes} bytes`);

    const stored = await neo.driver.executeQuery(
      "UNWIND $ids AS id MATCH (a:Action {id: id}) RETURN count(a) AS n",
      { ids: acknowledged },
    );
    assert.equal(Number(stored.records[0]?.get("n")), acknowledged.length, "every 202 is in Neo4j");
    const all = await neo.driver.executeQuery("MATCH (a:Action) RETURN count(a) AS n");
    assert.equal(Number(all.records[0]?.get("n")), acknowledged.length, "and nothing else");

    const health = await fetch(`${sink.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(health.status, 200, "the sink is still up");
    assertNoSecrets(sink.process.output(), { neo4jPassword: neo.password }, "the sink's log");
  });
});
