/**
 * Kill and recover, end to end: simulator -> exporter (with CTS_STATE_FILE) -> sink -> a real
 * Neo4j, with a few thousand traces arriving over time, while the test kills the sink, stops
 * Neo4j for 20 seconds, kills the exporter, and the simulator throttles, fails and expires
 * tokens. Afterwards the Action ids in Neo4j must equal the trace ids the simulator served.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import neo4j, { type Driver } from "neo4j-driver";
import {
  freePort,
  startService,
  startThrowawayNeo4j,
  waitForHttp,
  type ManagedProcess,
  type ThrowawayNeo4j,
} from "@cts/devkit";
import { startSimulator, type Simulator } from "@cts/otc_simulator";
import { assertNoSecrets, simulatorSecrets } from "./support/secrets.js";

const RATE = 30; // traces per second: about 3,000 over the faulty phase

describe("faults end to end: kill and recover", () => {
  let sim: Simulator;
  let db: ThrowawayNeo4j;
  let driver: Driver;
  const outputs: string[] = [];

  before(async () => {
    db = await startThrowawayNeo4j();
    driver = neo4j.driver(db.uri, neo4j.auth.basic(db.user, db.password));
    sim = await startSimulator({
      seed: 4242,
      generator: { rate: RATE, lateFraction: 0.05, lateMinutes: [0.1, 0.4] },
    });
  });
  after(async () => {
    await driver.close();
    await sim.close();
    await db.destroy();
  });

  test("missing = 0 and duplicate = 0 after sink, Neo4j and exporter failures", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "cts-faults-"));
    const clouds = join(dir, "clouds.yaml");
    await writeFile(clouds, sim.cloudsYaml({ cloud: "sim" }));
    const sinkPort = await freePort();
    const sinkEnv = {
      NEO4J_URI: db.uri,
      NEO4J_USER: db.user,
      NEO4J_PASSWORD: db.password,
      PORT: String(sinkPort),
    };
    const exporterEnv = {
      OS_CLIENT_CONFIG_FILE: clouds,
      OS_CLOUD: "sim",
      K_SINK: `http://127.0.0.1:${sinkPort}/`,
      CTS_FROM: "1",
      CTS_POLL_INTERVAL_SECONDS: "2",
      CTS_STATE_FILE: join(dir, "state.json"),
      PORT: "0",
      SINK_RETRY_ATTEMPTS: "3",
      SINK_RETRY_BASE_MS: "100",
      SINK_RETRY_MAX_MS: "500",
    };
    const keep = (child: ManagedProcess) => {
      void child.exited().then(() => outputs.push(child.output()));
      return child;
    };

    sim.setFaults({ every: 2, kinds: ["throttle", "error", "expire-token"], retryAfterSeconds: 1 });
    let sink = keep(startService("neo4j_sink", { name: "sink", env: sinkEnv }));
    await waitForHttp(`http://127.0.0.1:${sinkPort}/readyz`, { process: sink, timeoutMs: 60_000 });
    let exporter = keep(startService("cts_exporter", { name: "exporter", env: exporterEnv }));

    await sleep(12_000);
    t.diagnostic("killing the sink with SIGKILL");
    await sink.stop("SIGKILL");
    await sleep(3_000);
    sink = keep(startService("neo4j_sink", { name: "sink", env: sinkEnv }));
    await waitForHttp(`http://127.0.0.1:${sinkPort}/readyz`, { process: sink, timeoutMs: 60_000 });

    await sleep(8_000);
    t.diagnostic("stopping Neo4j for 20 seconds");
    await db.stop();
    await sleep(20_000);
    await db.start();

    await sleep(8_000);
    t.diagnostic("killing the exporter with SIGKILL");
    await exporter.stop("SIGKILL");
    await sleep(3_000);
    exporter = keep(startService("cts_exporter", { name: "exporter", env: exporterEnv }));
    await sleep(12_000);

    t.diagnostic("faults off; stopping the exporter and catching up with --once");
    sim.setFaults(undefined);
    assert.equal(await exporter.stop("SIGTERM"), 0, "SIGTERM ends the exporter with 0");
    const catchUp = keep(
      startService("cts_exporter", { name: "exporter --once", env: exporterEnv, args: ["--once"] }),
    );
    assert.equal(
      await catchUp.exited(),
      0,
      `the catch-up cycle delivered everything\n${catchUp.output().slice(-3000)}`,
    );
    await sink.stop("SIGTERM");
    await Promise.all([exporter.exited(), catchUp.exited(), sink.exited()]);

    const served = sim.servedTraceIds();
    const result = await driver.executeQuery(
      "MATCH (a:Action) RETURN collect(a.id) AS ids, count(a) AS actions, count(DISTINCT a.id) AS distinctIds",
    );
    const record = result.records[0];
    assert.ok(record);
    const stored = new Set(record.get("ids") as string[]);
    const missing = [...served].filter((id) => !stored.has(id));
    const unexpected = [...stored].filter((id) => !served.has(id));
    const duplicates = Number(record.get("actions")) - Number(record.get("distinctIds"));
    const stats = sim.stats();
    t.diagnostic(
      `served=${served.size} stored=${stored.size} missing=${missing.length} duplicate=${duplicates} ` +
        `unexpected=${unexpected.length} faultsInjected=${stats.faultsInjected} tokensIssued=${stats.tokensIssued}`,
    );
    assert.ok(served.size > 1_500, `a few thousand traces were served (got ${served.size})`);
    // The simulator cycles through the three kinds, so six faults are each kind twice (two
    // expired tokens, hence at least three issued). How many more depends on machine speed and
    // on the exporter's backoff after failed cycles, which is why the bound is not higher.
    assert.ok(
      stats.faultsInjected >= 6,
      `the simulator injected each kind of fault twice (${stats.faultsInjected} faults)`,
    );
    assert.ok(
      stats.tokensIssued >= 3,
      `expired tokens were renewed (${stats.tokensIssued} issued)`,
    );
    assert.deepEqual(missing.slice(0, 10), [], `missing = ${missing.length}`);
    assert.equal(duplicates, 0, "duplicate = 0");
    assert.deepEqual(
      unexpected.slice(0, 10),
      [],
      "nothing in the graph the simulator did not serve",
    );

    // Expired tokens were renewed several times: none of them, old or new, may be in a log.
    assertNoSecrets(
      outputs.join("\n"),
      { ...simulatorSecrets(sim), neo4jPassword: db.password },
      "the logs of every sink and exporter process",
    );
  });
});
