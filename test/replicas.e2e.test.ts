/**
 * Scale-out (issue 12, items 1 and 2): three sink processes on one Neo4j behind a round-robin
 * front (what Knative's routing does for a Service scaled to three pods), fed by two exporter
 * processes, one per project, each in binary mode with 32 connections, for REPLICA_TEST_SECONDS
 * (60 by default). The two projects' traces share users, a domain, IP addresses and resources,
 * so the replicas' transactions compete for the same nodes all the time. Contention must stay
 * invisible: no 5xx reaches an exporter, no replica's /readyz ever turns red, and afterwards
 * every trace is in Neo4j exactly once, with no relationship written twice.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import {
  freePort,
  freshNeo4j,
  startSinkProcess,
  waitFor,
  waitForHttp,
  type ManagedProcess,
  type SinkProcess,
  type TestNeo4j,
  startService,
} from "@cts/devkit";
import { startSimulator, type Simulator } from "@cts/otc_simulator";
import type { RawCtsTrace } from "@cts/shared";
import { startRoundRobinProxy, type RoundRobinProxy } from "./support/round-robin-proxy.js";
import { assertNoSecrets } from "./support/secrets.js";

const SECONDS = Number(process.env["REPLICA_TEST_SECONDS"] ?? 60);
/** New traces per second and project; both projects together twice that. */
const RATE = Number(process.env["REPLICA_TEST_RATE"] ?? 100);
const REPLICAS = 3;
const CONNECTIONS = 32;
const TICK_MS = 200;

/** One account (domain) with two projects; users, IPs and resources shared by both. */
const DOMAIN = { id: "d0000000000000000000000000000042", name: "OTC00000000001000000042" };
const USERS = [
  ...Array.from({ length: 10 }, (_, k) => ({
    id: `user-${k}`,
    name: `alice-${k}`,
    domain: DOMAIN,
  })),
  // v1-style users without id share the <domain name>/<user name> fallback key.
  { name: "bob", domain: DOMAIN },
  { name: "carol", domain: { id: DOMAIN.id } },
];
const IPS = Array.from({ length: 8 }, (_, k) => `198.51.100.${k + 1}`);
const RESOURCES = Array.from({ length: 40 }, (_, k) => ({ id: `srv-${k}`, name: `web-${k}` }));

function sharedTrace(id: string, n: number, time: number): RawCtsTrace {
  const resource = RESOURCES[(n * 7) % RESOURCES.length]!;
  return {
    trace_id: id,
    trace_name: n % 3 === 0 ? "deleteServer" : "updateServer",
    trace_rating: n % 17 === 0 ? "warning" : "normal",
    trace_type: "ApiCall",
    service_type: "ECS",
    resource_type: "server",
    resource_id: resource.id,
    resource_name: resource.name,
    source_ip: IPS[n % IPS.length],
    code: "200",
    time,
    record_time: time,
    user: USERS[n % USERS.length],
  };
}

async function cloudsFile(sim: Simulator, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cts-replicas-"));
  const file = join(dir, "clouds.yaml");
  await writeFile(file, sim.cloudsYaml({ cloud: name }));
  return file;
}

interface Exporter {
  readonly process: ManagedProcess;
  readonly metricsUrl: string;
}

async function startExporter(sim: Simulator, sink: string, name: string): Promise<Exporter> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "cts-replicas-state-"));
  const child = startService("cts_exporter", {
    name: `cts_exporter-${name}`,
    env: {
      OS_CLIENT_CONFIG_FILE: await cloudsFile(sim, name),
      OS_CLOUD: name,
      K_SINK: sink,
      SINK_MODE: "binary",
      SINK_CONCURRENCY: String(CONNECTIONS),
      CTS_FROM: "5",
      CTS_POLL_INTERVAL_SECONDS: "1",
      CTS_STATE_FILE: join(dir, "state.json"),
      PORT: String(port),
    },
  });
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, { process: child, timeoutMs: 60_000 });
  return { process: child, metricsUrl };
}

const sumOf = (metrics: string, name: string): number =>
  [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );

describe(`${REPLICAS} sink replicas on one Neo4j, 2 exporters, ${SECONDS} s`, () => {
  let neo: TestNeo4j;
  const sinks: SinkProcess[] = [];
  const sims: Simulator[] = [];
  let proxy: RoundRobinProxy;

  before(async () => {
    neo = await freshNeo4j();
    // Started together, as a scaled-out Service's pods are: they create the schema at once.
    sinks.push(
      ...(await Promise.all(Array.from({ length: REPLICAS }, () => startSinkProcess(neo)))),
    );
    proxy = await startRoundRobinProxy(sinks.map((sink) => sink.url));
    for (const seed of [121, 122]) {
      sims.push(
        await startSimulator({ seed, generator: { rate: 0 }, identity: { domainId: DOMAIN.id } }),
      );
    }
  });
  after(async () => {
    await proxy.close();
    await Promise.all(sinks.map((sink) => sink.process.stop()));
    await Promise.all(sims.map((sim) => sim.close()));
    await neo.close();
  });

  test("no 5xx, /readyz never red, every trace stored once, no relationship twice", async (t) => {
    const exporters = await Promise.all(
      sims.map((sim, k) => startExporter(sim, proxy.url, `project${k}`)),
    );
    const added: string[][] = sims.map(() => []);
    const red: string[] = [];
    let readyProbes = 0;
    const started = Date.now();
    const deadline = started + SECONDS * 1000;

    const feed = async () => {
      const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
      for (let tick = 0; Date.now() < deadline; tick++) {
        const now = Date.now();
        sims.forEach((sim, k) => {
          const traces = Array.from({ length: perTick }, (_, i) => {
            const n = tick * perTick + i;
            return sharedTrace(`p${k}-${n}`, n + k, now);
          });
          added[k]!.push(...sim.addTraces(traces));
        });
        await sleep(TICK_MS);
      }
    };
    const watchReadiness = async () => {
      while (Date.now() < deadline + 5_000) {
        await Promise.all(
          sinks.map(async (sink, k) => {
            readyProbes++;
            const answer = await fetch(`${sink.url}/readyz`, { signal: AbortSignal.timeout(5_000) })
              .then((response) => String(response.status))
              .catch((error: unknown) => (error as Error).message);
            if (answer !== "200" && red.length < 20) red.push(`replica ${k}: ${answer}`);
          }),
        );
        await sleep(250);
      }
    };
    await Promise.all([feed(), watchReadiness()]);

    const expected = added.flat();
    const stored = async () =>
      Number(
        (
          await neo.driver.executeQuery(
            "UNWIND $ids AS id MATCH (a:Action {id: id}) RETURN count(a) AS n",
            {
              ids: expected,
            },
          )
        ).records[0]?.get("n"),
      );
    await waitFor(async () => (await stored()) === expected.length, {
      timeoutMs: 180_000,
      intervalMs: 1_000,
      message: `all ${expected.length} traces stored`,
    });
    const seconds = (Date.now() - started) / 1000;

    const sinkMetrics = await Promise.all(
      sinks.map(async (sink) => (await fetch(`${sink.url}/metrics`)).text()),
    );
    const exporterMetrics = await Promise.all(
      exporters.map(async (exporter) => (await fetch(exporter.metricsUrl)).text()),
    );
    for (const exporter of exporters) {
      const code = await exporter.process.stop("SIGTERM");
      assert.equal(code, 0, `exporter exit code\n${exporter.process.output().slice(-2000)}`);
    }

    const statuses = Object.fromEntries(proxy.statuses());
    const retries = sinkMetrics.map((text) => sumOf(text, "neo4j_sink_write_retries_total"));
    const written = sinkMetrics.map((text) => sumOf(text, "neo4j_sink_events_written_total"));
    t.diagnostic(
      `${expected.length} traces (2 projects) in ${seconds.toFixed(0)} s; statuses at the front ${JSON.stringify(statuses)}; ` +
        `requests per replica ${proxy.perUpstream().join("/")}; events written per replica ${written.join("/")}; ` +
        `contention retries per replica ${retries.join("/")}; readiness probes ${readyProbes}`,
    );

    assert.ok(expected.length >= SECONDS * RATE, `the feed ran (${expected.length} traces)`);
    const fiveXx = [...proxy.statuses().keys()].filter((status) => status >= 500 || status === 0);
    assert.deepEqual(fiveXx, [], `no 5xx reached an exporter: ${JSON.stringify(statuses)}`);
    assert.deepEqual(red, [], "no replica's /readyz was ever red");
    for (const text of exporterMetrics) {
      assert.equal(
        sumOf(text, "cts_exporter_events_failed_total"),
        0,
        "no exporter gave up an event",
      );
    }
    for (const text of sinkMetrics) {
      assert.equal(
        sumOf(text, "neo4j_sink_events_rejected_total"),
        0,
        "no replica refused an event",
      );
    }

    const actions = await neo.driver.executeQuery("MATCH (a:Action) RETURN count(a) AS n");
    assert.equal(Number(actions.records[0]?.get("n")), expected.length, "0 missing, nothing extra");
    const twice = await neo.driver.executeQuery(
      `MATCH (a)-[r]->(b) WITH a, b, type(r) AS type, count(r) AS n WHERE n > 1
       RETURN count(*) AS n`,
    );
    assert.equal(Number(twice.records[0]?.get("n")), 0, "no relationship is duplicated");
    const linked = await neo.driver.executeQuery(
      `MATCH (a:Action) WHERE NOT (a)-[:IN_PROJECT]->() OR NOT (a)-[:PERFORMED_BY]->()
         OR NOT (a)-[:APPLIED_ON]->() OR NOT (a)-[:FROM_IP]->()
       RETURN count(a) AS n`,
    );
    assert.equal(Number(linked.records[0]?.get("n")), 0, "every Action has all its links");
    const shared = await neo.driver.executeQuery(
      `MATCH (r:Resource)-[:MEMBER_OF]->(p:Project) WITH r, count(p) AS projects
       RETURN min(projects) AS min, count(r) AS resources`,
    );
    assert.deepEqual(
      {
        min: Number(shared.records[0]?.get("min")),
        resources: Number(shared.records[0]?.get("resources")),
      },
      { min: 2, resources: RESOURCES.length },
      "the resources are shared by both projects",
    );
    const users = await neo.driver.executeQuery("MATCH (u:User) RETURN count(u) AS n");
    assert.equal(Number(users.records[0]?.get("n")), USERS.length, "one node per shared user");

    for (const sink of sinks) {
      assertNoSecrets(sink.process.output(), { neo4jPassword: neo.password }, "a sink's log");
    }
  });
});
