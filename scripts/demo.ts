/**
 * `pnpm demo [--duration SECONDS]`: the whole pipeline on this machine. A local Neo4j (or
 * NEO4J_URI), the OTC simulator generating traffic, the sink, and the exporter polling every
 * minute; live progress; Ctrl-C (or --duration) stops the services and prints a summary that
 * ends with what the detection rules found (the simulator also serves every rule's firing pattern).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import neo4j, { type Driver } from "neo4j-driver";
import {
  formatTrace,
  neo4jServer,
  readSpans,
  REPO_ROOT,
  runCli,
  settingsFromEnv,
  startCollector,
  startService,
  waitForHttp,
  type ManagedProcess,
  type RunningCollector,
} from "@cts/devkit";
import { loadRules, runDetections, summaryReport } from "@cts/detections";
import { startSimulator, type Simulator } from "@cts/otc_simulator";

const USAGE = `usage: pnpm demo [--duration SECONDS] [--rate TRACES_PER_SECOND] [--seed N]
                 [--simulator-port N] [--sink-port N] [--exporter-port N]
                 [--otel [--otel-port N]]

Runs Neo4j (pnpm neo4j start, unless NEO4J_URI and NEO4J_PASSWORD are set), the OTC simulator,
neo4j_sink and cts_exporter (polling every minute). The simulator also serves every detection
rule's firing pattern, which a first exporter run collects; the final summary ends with what
pnpm detect finds. Ctrl-C stops it; --duration stops it by itself.
--otel also starts a local OpenTelemetry Collector (OTLP/HTTP on --otel-port, default 4318; built
with Go the first time) and sends both services' traces and metrics to it; with
OTEL_EXPORTER_OTLP_ENDPOINT set (your Jaeger or collector) they go there instead.`;

interface Options {
  readonly duration: number | undefined;
  readonly rate: number;
  readonly seed: number;
  readonly simulatorPort: number;
  readonly sinkPort: number;
  readonly exporterPort: number;
  readonly otel: boolean;
  readonly otelPort: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: "string" },
      rate: { type: "string", default: "3" },
      seed: { type: "string" },
      "simulator-port": { type: "string", default: "4545" },
      "sink-port": { type: "string", default: "8081" },
      "exporter-port": { type: "string", default: "8082" },
      otel: { type: "boolean", default: false },
      "otel-port": { type: "string", default: "4318" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (name: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (text === undefined || !Number.isFinite(value) || value < min) {
      throw new Error(`--${name} needs a number >= ${min}, got "${text ?? ""}"`);
    }
    return value;
  };
  return {
    duration: values.duration === undefined ? undefined : number("duration", values.duration, 1),
    rate: number("rate", values.rate, 0),
    // A new tenant per run by default, so the summary counts this run's actions only.
    seed: values.seed === undefined ? Date.now() % 1_000_000 : number("seed", values.seed, 0),
    simulatorPort: number("simulator-port", values["simulator-port"], 1),
    sinkPort: number("sink-port", values["sink-port"], 1),
    exporterPort: number("exporter-port", values["exporter-port"], 1),
    otel: values.otel,
    otelPort: number("otel-port", values["otel-port"], 1),
  };
}

async function assertPortFree(port: number, flag: string): Promise<void> {
  const server = createServer();
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    server.once("error", resolve);
    server.listen(port, "127.0.0.1", () => {
      resolve(undefined);
    });
  });
  if (error === undefined) {
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    return;
  }
  throw new Error(
    error.code === "EADDRINUSE"
      ? `port ${port} is already in use; choose another with ${flag}`
      : `cannot listen on port ${port} (${error.code ?? error.message}); choose another with ${flag}`,
  );
}

const say = (line: string) => {
  console.log(`demo: ${line}`);
};

/** Services run from their sources (no build step) until the demo stops them (Ctrl-C or --duration). */
const UNTIL_STOPPED = Number.POSITIVE_INFINITY;

/** Sums the `sent` fields of the exporter's per-cycle summary lines. */
function deliveredFromLogs(output: string): number {
  let sent = 0;
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; sent?: number };
      if (entry.msg?.startsWith("cycle ") === true && typeof entry.sent === "number")
        sent += entry.sent;
    } catch {
      // not a log line
    }
  }
  return sent;
}

/** The queries the demo suggests: they need only a time range, which the demo knows. */
const DEMO_QUERIES = [
  "failed-logins-by-ip.cypher",
  "incident-actions.cypher",
  "activity-by-project-region.cypher",
];

function demoQueries(): { name: string; text: string }[] {
  return DEMO_QUERIES.map((name) => ({
    name,
    text: readFileSync(join(REPO_ROOT, "queries", name), "utf8")
      .split("\n")
      .filter((line) => !line.startsWith("//"))
      .join("\n")
      .trim(),
  }));
}

async function countActions(driver: Driver, projectId: string): Promise<number> {
  const result = await driver.executeQuery(
    "MATCH (a:Action)-[:IN_PROJECT]->(:Project {id: $projectId}) RETURN count(a) AS actions",
    { projectId },
  );
  return Number(result.records[0]?.get("actions") ?? 0);
}

/** Where the demo's telemetry goes: the user's OTLP endpoint, or a collector started here. */
async function startTelemetryTarget(
  options: Options,
): Promise<{ env: Record<string, string>; collector?: RunningCollector }> {
  const tuning = { OTEL_METRIC_EXPORT_INTERVAL: "10000", OTEL_BSP_SCHEDULE_DELAY: "1000" };
  const own = process.env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  if (own !== undefined && own !== "") {
    say(`OpenTelemetry: sending traces and metrics to ${own} (OTEL_EXPORTER_OTLP_ENDPOINT)`);
    return { env: { ...tuning, OTEL_EXPORTER_OTLP_ENDPOINT: own } };
  }
  await assertPortFree(options.otelPort, "--otel-port");
  say("starting the OpenTelemetry Collector (the first time, `go build` takes a few minutes) ...");
  const collector = await startCollector(
    { dir: join(REPO_ROOT, ".otelcol", "demo"), httpPort: options.otelPort },
    say,
  );
  say(`OpenTelemetry Collector receiving OTLP on ${collector.endpoint}`);
  return { env: { ...tuning, OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint }, collector };
}

/** The latest poll cycle's trace as a tree, cut to `lines` lines. */
function latestTrace(collector: RunningCollector, lines: number): string | undefined {
  const spans = readSpans(collector.tracesFile);
  const cycles = spans.filter((span) => span.name === "cts_exporter.cycle");
  const withEvents = cycles.filter((span) => Number(span.attributes["cts.events.sent"] ?? 0) > 0);
  const latest = (withEvents.length > 0 ? withEvents : cycles).at(-1);
  if (latest === undefined) return undefined;
  const tree = formatTrace(latest.traceId, spans).split("\n");
  return tree.length <= lines
    ? tree.join("\n")
    : [...tree.slice(0, lines), `  ... ${tree.length - lines} more spans`].join("\n");
}

async function main(): Promise<number> {
  const options = parseOptions();
  await assertPortFree(options.simulatorPort, "--simulator-port");
  await assertPortFree(options.sinkPort, "--sink-port");
  await assertPortFree(options.exporterPort, "--exporter-port");

  let uri = process.env["NEO4J_URI"];
  let password = process.env["NEO4J_PASSWORD"];
  let browser: string | undefined;
  const userChosePassword = password !== undefined;
  if (uri === undefined || password === undefined) {
    const settings = settingsFromEnv(process.env);
    say("starting Neo4j (pnpm neo4j start) ...");
    const started = await neo4jServer.start(settings, say);
    uri = started.boltUri;
    password = settings.password;
    browser = `${started.httpUrl}/browser/`;
    say(
      started.alreadyRunning
        ? `Neo4j already running at ${uri}`
        : `Neo4j started in ${started.seconds.toFixed(1)}s`,
    );
  }
  const user = process.env["NEO4J_USER"] ?? "neo4j";
  const telemetry = options.otel ? await startTelemetryTarget(options) : { env: {} };

  const workDir = join(REPO_ROOT, ".state", `demo-${options.seed}`);
  mkdirSync(workDir, { recursive: true });
  const sim: Simulator = await startSimulator({
    port: options.simulatorPort,
    seed: options.seed,
    generator: { rate: options.rate },
    detections: "all",
  });
  const clouds = join(workDir, "clouds.yaml");
  writeFileSync(clouds, sim.cloudsYaml({ cloud: "demo" }), { mode: 0o600 });
  say(
    `OTC simulator on ${sim.url} (project ${sim.projectId}), ${options.rate} traces/s; clouds.yaml in ${clouds}`,
  );

  const sink = startService("neo4j_sink", {
    name: "neo4j_sink",
    timeoutMs: UNTIL_STOPPED,
    env: {
      NEO4J_URI: uri,
      NEO4J_USER: user,
      NEO4J_PASSWORD: password,
      PORT: String(options.sinkPort),
      ...telemetry.env,
    },
  });
  const children: ManagedProcess[] = [sink];
  const driver = neo4j.driver(uri, neo4j.auth.basic(user, password));
  const run = { stopping: false };
  const shutdown = async () => {
    if (run.stopping) return;
    run.stopping = true;
    for (const child of [...children].reverse()) await child.stop("SIGTERM");
    await sim.close();
    await driver.close();
    await telemetry.collector?.stop();
  };
  process.once("SIGINT", () => void shutdown().then(() => process.exit(130)));
  process.once("SIGTERM", () => void shutdown().then(() => process.exit(143)));

  try {
    await waitForHttp(`http://127.0.0.1:${options.sinkPort}/readyz`, {
      process: sink,
      timeoutMs: 90_000,
    });
    say(`neo4j_sink ready on http://127.0.0.1:${options.sinkPort}/`);
    const exporterEnv = {
      OS_CLIENT_CONFIG_FILE: clouds,
      OS_CLOUD: "demo",
      K_SINK: `http://127.0.0.1:${options.sinkPort}/`,
      CTS_FROM: "1",
      CTS_STATE_FILE: join(workDir, "exporter-state.json"),
      PORT: String(options.exporterPort),
      ...telemetry.env,
    };
    // The detection patterns reach a few days back: one cycle collects them (and sets the
    // checkpoint the polling exporter continues from).
    const patterns = sim.detections;
    if (patterns === undefined) throw new Error("the simulator serves no detection patterns");
    const backfillMinutes = 7 * 24 * 60; // all CTS keeps (the exporter's --from maximum)
    say(
      `collecting the detection patterns of ${patterns.rules.length} rules (${patterns.traces.length} traces, the last ${backfillMinutes} minutes)`,
    );
    const backfill = startService("cts_exporter", {
      name: "cts_exporter --once",
      timeoutMs: UNTIL_STOPPED,
      env: exporterEnv,
      args: ["--once", "--from", String(backfillMinutes)],
    });
    await backfill.exited();
    const exporter = startService("cts_exporter", {
      name: "cts_exporter",
      timeoutMs: UNTIL_STOPPED,
      env: exporterEnv,
    });
    children.push(exporter);
    await waitForHttp(`http://127.0.0.1:${options.exporterPort}/healthz`, {
      process: exporter,
      timeoutMs: 60_000,
    });
    say("cts_exporter polling the simulator every minute");
    console.log("");
    console.log(`  Neo4j Browser: ${browser ?? "(your server's Browser)"}   connect URL: ${uri}`);
    console.log(
      `  user: ${user}   password: ${userChosePassword ? "(your NEO4J_PASSWORD)" : password}`,
    );
    const from = new Date(Date.now() - 60 * 60_000).toISOString();
    const to = new Date(Date.now() + 24 * 60 * 60_000).toISOString();
    console.log("  Try these queries from queries/ in the Browser: first set the time range with");
    console.log(`    :params {from: '${from}', to: '${to}'}`);
    for (const query of demoQueries()) {
      console.log(`\n  // queries/${query.name}\n${query.text.replace(/^/gm, "    ")}`);
    }
    if (telemetry.collector !== undefined) {
      const { tracesFile, metricsFile } = telemetry.collector;
      console.log(
        `\n  OpenTelemetry: a trace per poll cycle, from the CTS request to the Neo4j commit`,
      );
      console.log(`    spans (OTLP JSON, one export a line):   ${tracesFile}`);
      console.log(`    metrics (OTLP JSON, one export a line): ${metricsFile}`);
      console.log(
        "    the latest traces as trees:            OTELCOL_DIR=.otelcol/demo pnpm otelcol traces",
      );
      console.log(
        "    or point OTEL_EXPORTER_OTLP_ENDPOINT at a Jaeger (OTLP on 4318) and run pnpm demo --otel",
      );
    }
    console.log("");
    const started = Date.now();
    const end =
      options.duration === undefined ? Number.POSITIVE_INFINITY : started + options.duration * 1000;
    while (!run.stopping && Date.now() < end) {
      await sleep(Math.min(10_000, Math.max(0, end - Date.now())));
      const actions = await countActions(driver, sim.projectId).catch(() => Number.NaN);
      const seconds = Math.round((Date.now() - started) / 1000);
      say(
        `${seconds}s: traces generated ${sim.stats().tracesStored}, events delivered ${deliveredFromLogs(backfill.output()) + deliveredFromLogs(exporter.output())}, actions in the graph ${actions}`,
      );
    }
    if (run.stopping) return 130;

    say("duration reached: stopping the exporter, then one last cycle to catch up");
    await exporter.stop("SIGTERM");
    const finalRun = startService("cts_exporter", {
      name: "cts_exporter --once",
      timeoutMs: UNTIL_STOPPED,
      env: exporterEnv,
      args: ["--once"],
    });
    await finalRun.exited();
    const delivered =
      deliveredFromLogs(backfill.output()) +
      deliveredFromLogs(exporter.output()) +
      deliveredFromLogs(finalRun.output());
    const actions = await countActions(driver, sim.projectId);
    const generated = sim.stats().tracesStored;
    console.log("");
    say("summary");
    console.log(
      `  traces generated by the simulator: ${generated} (late-recorded ones appear in later polls)`,
    );
    console.log(`  events delivered by the exporter:  ${delivered}`);
    console.log(
      `  actions in Neo4j for this tenant:  ${actions}  ${actions === delivered ? "(= delivered)" : "(differs from delivered!)"}`,
    );
    const since = new Date(patterns.since);
    const outcomes = await runDetections(driver, loadRules(), {
      window: { since, until: new Date() },
    });
    console.log("");
    say(`detections since ${since.toISOString()} (pnpm detect --since ${since.toISOString()})`);
    console.log(summaryReport(outcomes).replace(/^/gm, "  "));
    if (browser !== undefined) {
      console.log(`  Neo4j keeps running: ${browser} (stop it with \`pnpm neo4j stop\`)`);
    }
    if (telemetry.collector !== undefined) {
      // The exporters flushed their spans when they stopped; give the sink's one export more.
      await sleep(1_500);
      const tree = latestTrace(telemetry.collector, 30);
      console.log(
        `  spans received: ${readSpans(telemetry.collector.tracesFile).length}, in ${telemetry.collector.tracesFile}`,
      );
      if (tree !== undefined)
        console.log(`\n  the last cycle's trace:\n${tree.replace(/^/gm, "    ")}`);
    }
    return actions === delivered ? 0 : 1;
  } finally {
    await shutdown();
  }
}

runCli("demo", main);
