/**
 * OpenTelemetry end to end against a real OTLP receiver: the OpenTelemetry Collector that
 * devkit builds from the Go module proxy (pinned in devkit/otelcol/go.mod), writing what it
 * receives to JSON-lines files. The simulator, the exporter and the sink run as real processes
 * with only standard OTEL_* variables; the test reads the spans back and checks that one event
 * forms one trace from the CTS page request to the Neo4j commit.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ancestry,
  formatTrace,
  freePort,
  freshNeo4j,
  readSpans,
  startCollector,
  startSinkProcess,
  waitFor,
  type ReceivedSpan,
  type RunningCollector,
  type SinkProcess,
  type TestNeo4j,
  startService,
} from "@cts/devkit";
import { startSimulator, type Simulator } from "@cts/otc_simulator";
import { sampleTrace } from "./support/traces.js";

const SERVER = 2;
const CLIENT = 3;
const INTERNAL = 1;

describe("OpenTelemetry: one trace from the CTS page request to the Neo4j commit", () => {
  let neo: TestNeo4j;
  let collector: RunningCollector;
  let sim: Simulator;
  let sink: SinkProcess;
  // What `before` started, stopped in reverse order even when `before` failed half-way.
  const started: (() => Promise<unknown>)[] = [];
  let clouds: string;
  let otelEnv: Record<string, string>;

  before(async () => {
    neo = await freshNeo4j();
    started.push(() => neo.close());
    const dir = await mkdtemp(join(tmpdir(), "cts-otel-"));
    collector = await startCollector({ dir, httpPort: await freePort() }, (line) => {
      process.stderr.write(`otelcol: ${line}\n`);
    });
    started.push(() => collector.stop());
    otelEnv = {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_TRACES_SAMPLER: "always_on",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_METRIC_EXPORT_INTERVAL: "500",
    };
    sim = await startSimulator({ seed: 14 });
    started.push(() => sim.close());
    clouds = join(dir, "clouds.yaml");
    await writeFile(clouds, sim.cloudsYaml({ cloud: "sim" }));
    sink = await startSinkProcess(neo, { env: otelEnv });
    started.push(() => sink.process.stop());
  });
  after(async () => {
    for (const stop of started.reverse()) await stop();
  });

  async function exportOnce(env: Record<string, string>): Promise<string> {
    const child = startService("cts_exporter", {
      args: ["--once"],
      env: {
        OS_CLIENT_CONFIG_FILE: clouds,
        OS_CLOUD: "sim",
        K_SINK: sink.url,
        CTS_FROM: "5",
        ...env,
      },
    });
    const code = await child.exited();
    assert.equal(code, 0, child.output());
    return child.output();
  }

  const spanWhere = (spans: readonly ReceivedSpan[], match: (span: ReceivedSpan) => boolean) =>
    spans.find(match);

  test("cycle → CTS page GET and delivery POST → sink POST / → queue wait and Neo4j transaction", async () => {
    sim.addTraces([sampleTrace("otel-1", Date.now() - 60_000)]);
    const log = await exportOnce({ ...otelEnv, OTEL_SERVICE_NAME: "cts-exporter-test" });
    assert.match(log, /"openTelemetry":true/);

    let spans: ReceivedSpan[] = [];
    let delivery: ReceivedSpan | undefined;
    let received: ReceivedSpan | undefined;
    await waitFor(
      () => {
        spans = readSpans(collector.tracesFile);
        delivery = spanWhere(
          spans,
          (s) => s.name === "POST" && s.attributes["cloudevents.event_id"] === "otel-1",
        );
        received =
          delivery &&
          spanWhere(spans, (s) => s.name === "POST /" && s.parentSpanId === delivery?.spanId);
        return (
          received !== undefined &&
          spans.some((s) => s.name === "neo4j_sink.transaction" && s.traceId === received?.traceId)
        );
      },
      { timeoutMs: 20_000, message: "the exporter's and the sink's spans of otel-1 arrive" },
    );
    assert.ok(delivery && received);
    const { traceId } = delivery;
    const tree = formatTrace(traceId, spans);
    const inTrace = spans.filter((s) => s.traceId === traceId);

    // The exporter: a root cycle span, the CTS page request and the delivery as its children.
    const [, cycle] = ancestry(delivery, spans);
    assert.ok(cycle, tree);
    assert.equal(cycle.name, "cts_exporter.cycle", tree);
    assert.equal(cycle.parentSpanId, "", tree);
    assert.equal(cycle.kind, INTERNAL);
    assert.equal(cycle.service, "cts-exporter-test", "OTEL_SERVICE_NAME names the service");
    assert.equal(cycle.attributes["cts.traces.collected"], 1, tree);
    assert.equal(delivery.kind, CLIENT);
    assert.equal(delivery.attributes["http.response.status_code"], 202);
    assert.equal(delivery.attributes["url.full"], `${sink.url}/`);
    const page = inTrace.find(
      (s) => s.name === "GET" && String(s.attributes["url.full"]).includes("/traces"),
    );
    assert.ok(page, `a CTS page request in the cycle's trace\n${tree}`);
    assert.equal(page.parentSpanId, cycle.spanId, tree);
    assert.equal(page.kind, CLIENT);
    assert.equal(page.attributes["otc.request"], "CTS trace list");
    assert.equal(page.attributes["http.response.status_code"], 200);
    assert.ok(
      page.endNs <= delivery.startNs + 2_000_000n,
      "the page was read before the event was delivered",
    );

    // The sink continues the same trace: receive, wait in the queue, commit.
    assert.equal(received.service, "neo4j_sink");
    assert.equal(received.kind, SERVER);
    assert.equal(received.attributes["cloudevents.event_id"], "otel-1");
    assert.equal(received.attributes["http.response.status_code"], 202);
    const wait = inTrace.find((s) => s.name === "neo4j_sink.queue_wait");
    assert.ok(wait, tree);
    assert.equal(wait.parentSpanId, received.spanId, tree);
    const commit = inTrace.find((s) => s.name === "neo4j_sink.transaction");
    assert.ok(commit, tree);
    assert.equal(commit.parentSpanId, received.spanId, tree);
    assert.equal(commit.kind, CLIENT);
    assert.equal(commit.attributes["db.system.name"], "neo4j");
    assert.equal(commit.attributes["neo4j_sink.batch.events"], 1);
    // Each span anchors its times on its own Date.now() reading (millisecond precision):
    // orders between spans hold within a couple of milliseconds.
    const SLACK = 2_000_000n;
    assert.ok(
      wait.endNs <= commit.startNs + SLACK,
      `the wait ends when the transaction starts (${wait.endNs} > ${commit.startNs})`,
    );
    assert.ok(
      commit.endNs <= received.endNs + SLACK,
      `the sink answers after the commit (${commit.endNs} > ${received.endNs})`,
    );
    assert.deepEqual(
      ancestry(commit, spans).map((s) => s.name),
      ["neo4j_sink.transaction", "POST /", "POST", "cts_exporter.cycle"],
    );

    // The event carried the delivery's trace context as the distributed-tracing extension,
    // and the sink kept it on the Action.
    const stored = await neo.driver.executeQuery(
      "MATCH (a:Action {id: 'otel-1'}) RETURN a.traceparent AS traceparent",
    );
    assert.equal(
      stored.records[0]?.get("traceparent"),
      `00-${traceId}-${delivery.spanId}-01`,
      "Action.traceparent is the delivery request's context",
    );
  });

  test("the prom-client metrics of both services are also exported over OTLP", async () => {
    await waitFor(
      () => {
        const text = readFileSync(collector.metricsFile, "utf8");
        return (
          text.includes('"neo4j_sink_events_written"') &&
          text.includes('"cts_exporter_events_delivered"')
        );
      },
      { timeoutMs: 15_000, message: "both services' metrics reach the collector" },
    );
    const metrics = await (await fetch(`${sink.url}/metrics`)).text();
    assert.match(metrics, /neo4j_sink_events_written_total [1-9]/, "/metrics still works");
  });

  test("without an OTLP endpoint the exporter sends no trace context", async () => {
    sim.addTraces([sampleTrace("otel-off-1", Date.now() - 30_000)]);
    const log = await exportOnce({});
    assert.match(log, /"openTelemetry":false/);
    const stored = await neo.driver.executeQuery(
      "MATCH (a:Action {id: 'otel-off-1'}) RETURN a.traceparent AS traceparent",
    );
    assert.equal(stored.records.length, 1);
    assert.equal(stored.records[0]?.get("traceparent"), null);
  });
});
