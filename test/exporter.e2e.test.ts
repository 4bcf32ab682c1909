/**
 * End to end: the OTC simulator, the exporter and a real HTTP receiver (issue 4's "done when").
 * The first suite runs the exporter in-process on the simulator's manual clock, so hours of
 * polling take milliseconds; the second runs it as a child process in real time for the
 * behaviour that needs a process: retries against a failing sink, SIGTERM, exit codes.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT } from "@cts/cts_exporter";
import { freePort, waitFor, waitForHttp, startService, type ManagedProcess } from "@cts/devkit";
import { manualClock, startSimulator, type ManualClock, type Simulator } from "@cts/otc_simulator";
import type { RawCtsTrace } from "@cts/shared";
import { duplicateIds, startEventReceiver, type EventReceiver } from "./support/event-receiver.js";
import { assertNoSecrets, simulatorSecrets } from "./support/secrets.js";
import { sampleTrace } from "./support/traces.js";
import { runExporterOnce } from "./support/run-once.js";

const MIN = 60_000;

async function writeClouds(sim: Simulator): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cts-e2e-"));
  const file = join(dir, "clouds.yaml");
  await writeFile(file, sim.cloudsYaml({ cloud: "sim" }));
  return file;
}

const readyz = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

async function checkpointIn(stateFile: string): Promise<number | null> {
  return (JSON.parse(await readFile(stateFile, "utf8")) as { checkpoint: number | null })
    .checkpoint;
}

/** Waits until /readyz answers `status`. */
function untilReadiness(port: number, status: number, timeoutMs: number, message: string) {
  return waitFor(async () => (await readyz(port)) === status, { timeoutMs, message });
}

/** Waits for the exporter on `port` to come up, turn /readyz red and fail `cycles` cycles. */
async function untilFailedCycles(child: ManagedProcess, port: number, cycles: number) {
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, { process: child });
  await untilReadiness(port, 503, 20_000, "readiness turns red while the sink fails");
  await waitFor(() => child.output().split('"msg":"cycle incomplete').length > cycles, {
    timeoutMs: 20_000,
    message: `${cycles} failed cycles, their state saved`,
  });
}

/** SIGTERM must end the exporter with exit code 0. */
async function stopCleanly(child: ManagedProcess): Promise<void> {
  const code = await child.stop("SIGTERM");
  assert.equal(code, 0, `exit code after SIGTERM\n${child.output().slice(-2000)}`);
}

describe("exporter end to end on a simulated clock", () => {
  let sim: Simulator;
  let clock: ManualClock;
  let receiver: EventReceiver;
  let env: Record<string, string>;
  let logs = "";

  before(async () => {
    clock = manualClock(Date.parse("2026-11-20T10:00:00Z"));
    sim = await startSimulator({ clock, seed: 7 });
    receiver = await startEventReceiver();
    const dir = await mkdtemp(join(tmpdir(), "cts-state-"));
    env = {
      OS_CLIENT_CONFIG_FILE: await writeClouds(sim),
      OS_CLOUD: "sim",
      K_SINK: receiver.url,
      CTS_FROM: "5",
      CTS_OVERLAP_MINUTES: "10",
      CTS_STATE_FILE: join(dir, "state.json"),
    };
  });
  after(async () => {
    await receiver.close();
    await sim.close();
  });

  /** One `--once` run: a cycle, then the process would exit. The checkpoint file carries over. */
  async function cycle(
    extraEnv: Record<string, string> = {},
    flags: string[] = [],
  ): Promise<number> {
    return runExporterOnce({
      env: { ...env, ...extraEnv },
      flags,
      clock,
      onOutput: (text) => (logs += text),
    });
  }

  test("three cycles with late-recorded traces: every trace delivered, none twice", async () => {
    const t0 = clock.now();
    const expected: string[] = [];
    const add = (id: string, time: number, recordDelayMs = 500) => {
      sim.addTraces([sampleTrace(id, time, { record_time: time + recordDelayMs })]);
      expected.push(id);
    };
    for (let i = 0; i < 5; i++) add(`a${i}`, t0 - 4 * MIN + i * 30_000);
    add("late-1", t0 - 20_000, 3 * MIN); // recorded after the first cycle ran
    assert.equal(await cycle(), EXIT.ok);
    assert.ok(
      !receiver.accepted.some((e) => e.id === "late-1"),
      "not visible yet in the first cycle",
    );

    clock.advance(5 * MIN);
    for (let i = 0; i < 5; i++) add(`b${i}`, clock.now() - 4 * MIN + i * 30_000);
    add("late-2", clock.now() - 60_000, 4 * MIN);
    assert.equal(await cycle(), EXIT.ok);

    clock.advance(5 * MIN);
    for (let i = 0; i < 5; i++) add(`c${i}`, clock.now() - 4 * MIN + i * 30_000);
    assert.equal(await cycle(), EXIT.ok);

    const ids = receiver.accepted.map((e) => e.id);
    assert.deepEqual([...new Set(ids)].sort(), [...expected].sort(), "every trace arrived");
    assert.deepEqual(duplicateIds(receiver.accepted), [], "none arrived twice");
    assert.match(logs, /"msg":"cycle finished"/);
  });

  test("a restart after a gap longer than CTS_FROM resumes from the checkpoint: nothing missing", async () => {
    receiver.accepted.length = 0;
    const state = JSON.parse(await readFile(env["CTS_STATE_FILE"] ?? "", "utf8")) as {
      checkpoint: number;
    };
    // The exporter is down for 45 minutes (CTS_FROM is 5); traces keep happening.
    const gap: string[] = [];
    for (let i = 1; i <= 45; i++) {
      const id = `gap${i}`;
      sim.addTraces([sampleTrace(id, state.checkpoint + i * MIN - 1_000)]);
      gap.push(id);
    }
    clock.advance(46 * MIN);
    assert.equal(await cycle(), EXIT.ok);
    const ids = new Set(receiver.accepted.map((e) => e.id));
    assert.deepEqual(
      gap.filter((id) => !ids.has(id)),
      [],
      "no trace of the gap is missing",
    );
    assert.deepEqual(duplicateIds(receiver.accepted), []);
  });

  test("a non-ASCII subject and a 100 KB request body survive the trip", async () => {
    receiver.accepted.length = 0;
    const subject = 'Prüfserver 東京 "α"';
    const body = JSON.stringify({ server: { name: subject, user_data: "x".repeat(100_000) } });
    sim.addTraces([
      sampleTrace("unicode-1", clock.now() - 30_000, { resource_name: subject, request: body }),
    ]);
    clock.advance(MIN);
    assert.equal(await cycle(), EXIT.ok);
    const event = receiver.accepted.find((e) => e.id === "unicode-1");
    assert.ok(event, "the event arrived");
    assert.equal(event.subject, subject);
    assert.equal(event.data["request"], body);
    assert.equal(event.data["resource_name"], subject);
  });

  test("a sink answering 400 for one event: the event goes whole to CTS_DEAD_LETTER_FILE, the rest delivered, exit 1", async () => {
    receiver.accepted.length = 0;
    const deadLetterFile = join(await mkdtemp(join(tmpdir(), "cts-dead-")), "dead.jsonl");
    receiver.answer = (event) =>
      event.id === "poison"
        ? { status: 400, body: '{"error":"resource_name too exotic"}' }
        : { status: 202 };
    const now = clock.now();
    sim.addTraces([
      sampleTrace("ok-1", now - 20_000),
      sampleTrace("poison", now - 15_000),
      sampleTrace("ok-2", now - 10_000),
    ]);
    clock.advance(MIN);
    const exit = await cycle({ CTS_DEAD_LETTER_FILE: deadLetterFile });
    receiver.answer = () => ({ status: 202 });
    assert.equal(exit, EXIT.undelivered, "--once reports that not everything was delivered");
    assert.deepEqual(receiver.accepted.map((e) => e.id).sort(), ["ok-1", "ok-2"]);
    assert.match(logs, /"msg":"sink rejected event"/);
    assert.match(logs, /resource_name too exotic/);
    assert.match(logs, /"eventIds":\["poison"\]/);
    assert.match(logs, /"msg":"event written to the dead-letter file"/);
    const lines = (await readFile(deadLetterFile, "utf8")).trim().split("\n");
    assert.equal(lines.length, 1);
    const letter = JSON.parse(lines[0] ?? "") as {
      reason: string;
      id: string;
      status: number;
      answer: string;
      event: { id: string; specversion: string; data: RawCtsTrace };
    };
    assert.equal(letter.reason, "rejected_400");
    assert.equal(letter.id, "poison");
    assert.equal(letter.status, 400);
    assert.match(letter.answer, /resource_name too exotic/);
    assert.equal(letter.event.specversion, "1.0");
    assert.equal(letter.event.data["trace_id"], "poison", "the whole event, data included");
    // Delivered or dead-lettered: the checkpoint moved, so nothing is sent again.
    receiver.accepted.length = 0;
    clock.advance(MIN);
    assert.equal(await cycle({ CTS_DEAD_LETTER_FILE: deadLetterFile }), EXIT.ok);
    assert.deepEqual(
      receiver.accepted.filter((e) => ["ok-1", "poison", "ok-2"].includes(e.id)),
      [],
    );
  });

  test("a rejected event with CTS_DEAD_LETTER_FILE unset, or a sink answering 401: exit 1, the checkpoint stays", async () => {
    const stateFile = env["CTS_STATE_FILE"] ?? "";
    const checkpoint = async () =>
      (JSON.parse(await readFile(stateFile, "utf8")) as { checkpoint: number }).checkpoint;
    const before = await checkpoint();
    receiver.accepted.length = 0;
    sim.addTraces([sampleTrace("held-1", clock.now() - 20_000)]);
    clock.advance(MIN);
    receiver.answer = () => ({ status: 400, body: '{"error":"no"}' });
    assert.equal(await cycle(), EXIT.undelivered);
    assert.equal(await checkpoint(), before, "no dead-letter file: the checkpoint stays");
    assert.match(logs, /CTS_DEAD_LETTER_FILE is unset/);
    receiver.answer = () => ({ status: 401, body: '{"error":"OIDC token required"}' });
    clock.advance(MIN);
    assert.equal(await cycle(), EXIT.undelivered);
    assert.equal(await checkpoint(), before, "401: the checkpoint stays");
    assert.match(logs, /the sink answered 401/);
    receiver.answer = () => ({ status: 202 });
    clock.advance(MIN);
    assert.equal(await cycle(), EXIT.ok);
    assert.ok((await checkpoint()) > before);
    assert.deepEqual(
      receiver.accepted.map((e) => e.id).filter((id) => id === "held-1"),
      ["held-1"],
      "delivered once the sink was fixed",
    );
  });

  test("--dry-run and CTS_X_PNP=false never write CTS_STATE_FILE; a real run then sends all 20", async () => {
    receiver.accepted.length = 0;
    const dir = await mkdtemp(join(tmpdir(), "cts-dry-"));
    const stateFile = join(dir, "state.json");
    const now = clock.now();
    const ids = Array.from({ length: 20 }, (_, i) => `dry-state-${i}`);
    sim.addTraces(ids.map((id, i) => sampleTrace(id, now - 3 * MIN + i * 1_000)));
    clock.advance(MIN);
    assert.equal(await cycle({ CTS_STATE_FILE: stateFile }, ["--dry-run"]), EXIT.ok);
    await assert.rejects(readFile(stateFile), { code: "ENOENT" }, "the dry run saved nothing");
    assert.equal(await cycle({ CTS_STATE_FILE: stateFile, CTS_X_PNP: "false" }), EXIT.ok);
    await assert.rejects(readFile(stateFile), { code: "ENOENT" }, "log-only saved nothing");
    assert.equal(receiver.accepted.length, 0, "neither run sent anything");
    assert.equal(await cycle({ CTS_STATE_FILE: stateFile, CTS_FROM: "6" }), EXIT.ok);
    assert.deepEqual(
      ids.filter((id) => !receiver.accepted.some((e) => e.id === id)),
      [],
      "the real run sent every trace the dry runs only looked at",
    );
    await readFile(stateFile);
  });

  test("no log line carries the password, the secret key or an IAM token", () => {
    assert.ok(sim.issuedTokens().length > 0, "the cycles authenticated");
    assertNoSecrets(logs, simulatorSecrets(sim), "the exporter's log");
  });
});

describe("exporter as a process", () => {
  let sim: Simulator;
  let receiver: EventReceiver;
  let clouds: string;

  before(async () => {
    sim = await startSimulator({ seed: 11 });
    receiver = await startEventReceiver();
    clouds = await writeClouds(sim);
  });
  after(async () => {
    await receiver.close();
    await sim.close();
  });

  function exporter(env: Record<string, string>, args: string[] = []) {
    return startService("cts_exporter", {
      args,
      env: {
        OS_CLIENT_CONFIG_FILE: clouds,
        OS_CLOUD: "sim",
        ...env,
      },
    });
  }

  /** The exporter as a service: polling every second, retrying the sink fast, on `port`. */
  function pollingExporter(port: number, stateFile: string, env: Record<string, string> = {}) {
    return exporter({
      K_SINK: receiver.url,
      PORT: String(port),
      CTS_FROM: "5",
      CTS_POLL_INTERVAL_SECONDS: "1",
      CTS_STATE_FILE: stateFile,
      SINK_RETRY_ATTEMPTS: "2",
      SINK_RETRY_BASE_MS: "50",
      SINK_RETRY_MAX_MS: "100",
      ...env,
    });
  }

  test("the sink fails for a while: the checkpoint stays, nothing is lost, SIGTERM ends cleanly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-state-"));
    const stateFile = join(dir, "state.json");
    const port = await freePort();
    let down = true;
    receiver.answer = () =>
      down ? { status: 503, headers: { "retry-after": "0" } } : { status: 202 };
    const now = Date.now();
    const ids = Array.from({ length: 20 }, (_, i) => `live-${i}`);
    sim.addTraces(ids.map((id, i) => sampleTrace(id, now - 3 * MIN + i * 1_000)));

    const child = pollingExporter(port, stateFile);
    try {
      await untilFailedCycles(child, port, 3);
      assert.equal(
        await checkpointIn(stateFile),
        null,
        "the checkpoint did not move while the sink failed",
      );

      down = false;
      await waitFor(() => new Set(receiver.accepted.map((e) => e.id)).size >= ids.length, {
        timeoutMs: 30_000,
        message: "all traces delivered after recovery",
      });
      await untilReadiness(port, 200, 10_000, "readiness green again");
      const metrics = await metricsOf(port);
      assert.match(metrics, /cts_exporter_retries_total\{reason="503"\} [1-9]/);
      assert.match(metrics, /cts_exporter_events_delivered_total\{status="202"\} (2\d|[3-9]\d)/);
    } finally {
      await stopCleanly(child);
    }
    const after = await checkpointIn(stateFile);
    assert.ok(after !== null && after > now, "the checkpoint moved once everything was delivered");
    assert.deepEqual(
      ids.filter((id) => !receiver.accepted.some((e) => e.id === id)),
      [],
      "nothing lost",
    );
    assert.deepEqual(duplicateIds(receiver.accepted), [], "nothing delivered twice");
    assert.match(child.output(), /"msg":"cts_exporter stopped"/);
    assertNoSecrets(child.output(), simulatorSecrets(sim), "the exporter's log");
  });

  test("a sink answering 401 turns /readyz red and keeps the checkpoint; a 400 lands in CTS_DEAD_LETTER_FILE and the metric", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-refused-"));
    const stateFile = join(dir, "state.json");
    const deadLetterFile = join(dir, "dead.jsonl");
    const port = await freePort();
    let refusing = true;
    receiver.answer = (event) =>
      refusing
        ? { status: 401, body: '{"error":"OIDC token required"}' }
        : event.id === "refused-bad"
          ? { status: 400, body: '{"error":"not a CTS trace"}' }
          : { status: 202 };
    const now = Date.now();
    const ids = ["refused-1", "refused-bad", "refused-2"];
    sim.addTraces(ids.map((id, i) => sampleTrace(id, now - 2 * MIN + i * 1_000)));
    const child = pollingExporter(port, stateFile, { CTS_DEAD_LETTER_FILE: deadLetterFile });
    try {
      await untilFailedCycles(child, port, 2);
      assert.equal(await checkpointIn(stateFile), null, "401 does not move the checkpoint");
      const refusedMetrics = await metricsOf(port);
      assert.match(
        refusedMetrics,
        /cts_exporter_events_failed_total\{reason="refused_401"\} [1-9]/,
      );
      assert.match(child.output(), /the sink answered 401/);
      refusing = false;
      await untilReadiness(port, 200, 30_000, "readiness green once the sink accepts");
      const metrics = await metricsOf(port);
      assert.match(metrics, /cts_exporter_events_dead_lettered_total\{reason="rejected_400"\} 1\b/);
    } finally {
      await stopCleanly(child);
    }
    const accepted = new Set(receiver.accepted.map((e) => e.id));
    assert.ok(accepted.has("refused-1") && accepted.has("refused-2"), "the good ones arrived");
    const letters = (await readFile(deadLetterFile, "utf8")).trim().split("\n");
    assert.equal(letters.length, 1);
    assert.match(letters[0] ?? "", /"id":"refused-bad"/);
    const after = await checkpointIn(stateFile);
    assert.ok(after !== null && after > now, "then the checkpoint moved");
    receiver.answer = () => ({ status: 202 });
  });

  test("--dry-run prints each event as one JSON line and sends nothing", async () => {
    const before = receiver.statuses.length;
    sim.addTraces([sampleTrace("dry-1", Date.now() - 30_000)]);
    const child = exporter({ K_SINK: receiver.url }, ["--once", "--dry-run", "--from", "2"]);
    const code = await child.exited();
    assert.equal(code, 0, child.output());
    const lines = child
      .output()
      .split("\n")
      .filter((line) => line.includes('"specversion"'));
    const event = lines
      .map((line) => JSON.parse(line) as { id: string; data: unknown })
      .find((e) => e.id === "dry-1");
    assert.ok(event, "the trace was printed as a CloudEvent");
    assert.equal(receiver.statuses.length, before, "nothing was sent");
    assertNoSecrets(child.output(), simulatorSecrets(sim), "the exporter's output");
  });

  const configurationErrors: [string, Record<string, string>, RegExp, number][] = [
    [
      "invalid K_CE_OVERRIDES",
      { K_CE_OVERRIDES: '{"extensions":{"Not Valid":"x"}}' },
      /K_CE_OVERRIDES has an invalid extension name/,
      78,
    ],
    [
      "K_CE_OVERRIDES naming the CloudEvents 0.3 attribute schemaurl",
      { K_CE_OVERRIDES: '{"extensions":{"schemaurl":"https://example.com/s"}}' },
      /K_CE_OVERRIDES tries to override the reserved attribute \\"schemaurl\\"/,
      78,
    ],
    [
      "a missing clouds.yaml",
      { OS_CLIENT_CONFIG_FILE: "/nonexistent/clouds.yaml" },
      /\/nonexistent\/clouds\.yaml/,
      78,
    ],
    ["an unknown OS_CLOUD", { OS_CLOUD: "prod-typo" }, /prod-typo/, 78],
  ];
  for (const [what, env, pattern, expected] of configurationErrors) {
    test(`${what} exits ${expected} with a message that names the problem`, async () => {
      const child = exporter({ K_SINK: receiver.url, ...env }, ["--once"]);
      assert.equal(await child.exited(), expected, child.output());
      assert.match(child.output(), pattern);
      assertNoSecrets(child.output(), simulatorSecrets(sim), "the exporter's log");
    });
  }

  test("a busy PORT exits 78 and names the port", async () => {
    const busy = new URL(receiver.url).port;
    const child = exporter({ K_SINK: receiver.url, PORT: busy });
    assert.equal(await child.exited(), 78, child.output());
    assert.match(child.output(), new RegExp(`cannot serve /healthz on PORT ${busy}`));
    // It had authenticated by then: the token must not be in the message either.
    assertNoSecrets(child.output(), simulatorSecrets(sim), "the exporter's log");
  });

  test("a wrong password exits 70 (cloud client not created) without printing it", async () => {
    const wrong = await mkdtemp(join(tmpdir(), "cts-wrong-"));
    const file = join(wrong, "clouds.yaml");
    const text = sim
      .cloudsYaml({ cloud: "sim" })
      .replace(sim.credentials.password, "Wrong-Password-123");
    await writeFile(file, text);
    const child = exporter({ K_SINK: receiver.url, OS_CLIENT_CONFIG_FILE: file }, ["--once"]);
    assert.equal(await child.exited(), 70, child.output());
    assertNoSecrets(
      child.output(),
      { wrongPassword: "Wrong-Password-123", ...simulatorSecrets(sim) },
      "the exporter's log",
    );
  });
});
