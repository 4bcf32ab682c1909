/**
 * Knative sender identity end to end: the exporter reads the token Knative would mount, sends it
 * as a bearer token, and the sink (real Neo4j) verifies it against a local OIDC issuer.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT } from "@cts/cts_exporter";
import { freshNeo4j, startOidcIssuer, type OidcIssuer, type TestNeo4j } from "@cts/devkit";
import type { RunningSink } from "@cts/neo4j_sink";
import { startTestSink } from "@cts/neo4j_sink/testing";
import { startSimulator, type Simulator } from "@cts/otc_simulator";
import { runExporterOnce } from "./support/run-once.js";
import { sampleTrace } from "./support/traces.js";

const AUDIENCE = "sinks.knative.dev/sink/cts/neo4j-sink";

describe("sender identity from the exporter's token file to the sink's verifier", () => {
  let neo: TestNeo4j;
  let issuer: OidcIssuer;
  let sink: RunningSink;
  let sim: Simulator;
  let dir: string;
  let logs = "";

  before(async () => {
    neo = await freshNeo4j();
    issuer = await startOidcIssuer();
    sink = await startTestSink(neo, {
      senderIdentity: { issuer: issuer.issuer, audience: AUDIENCE, jwksUri: undefined },
    });
    sim = await startSimulator({ seed: 5 });
    dir = await mkdtemp(join(tmpdir(), "cts-oidc-"));
    await writeFile(join(dir, "clouds.yaml"), sim.cloudsYaml({ cloud: "sim" }));
  });
  after(async () => {
    await sink.close();
    await sim.close();
    await issuer.close();
    await neo.close();
  });

  async function once(tokenFile: string): Promise<number> {
    return runExporterOnce({
      env: {
        OS_CLIENT_CONFIG_FILE: join(dir, "clouds.yaml"),
        OS_CLOUD: "sim",
        K_SINK: sink.url,
        CTS_FROM: "5",
        CTS_OIDC_TOKEN_FILE: tokenFile,
        SINK_RETRY_ATTEMPTS: "2",
        SINK_RETRY_BASE_MS: "20",
      },
      onOutput: (text) => (logs += text),
    });
  }

  const stored = async (ids: readonly string[]) =>
    Number(
      (
        await neo.driver.executeQuery("MATCH (a:Action) WHERE a.id IN $ids RETURN count(a) AS n", {
          ids,
        })
      ).records[0]?.get("n"),
    );

  test("with the token for the sink's audience every trace is stored", async () => {
    const ids = ["oidc-e2e-1", "oidc-e2e-2", "oidc-e2e-3"];
    sim.addTraces(ids.map((id, i) => sampleTrace(id, Date.now() - 60_000 + i * 1_000)));
    const token = join(dir, "token");
    await writeFile(token, `${await issuer.token({ audience: AUDIENCE })}\n`);
    assert.equal(await once(token), EXIT.ok, logs);
    assert.equal(await stored(ids), 3);
  });

  test("with a token for another audience nothing is stored, --once fails, no token is logged", async () => {
    const ids = ["oidc-e2e-wrong-1", "oidc-e2e-wrong-2"];
    sim.addTraces(ids.map((id, i) => sampleTrace(id, Date.now() - 30_000 + i * 1_000)));
    const token = join(dir, "wrong-token");
    const value = await issuer.token({ audience: "another-sink" });
    await writeFile(token, value);
    logs = "";
    assert.notEqual(await once(token), EXIT.ok);
    assert.equal(await stored(ids), 0);
    assert.match(logs, /401/);
    assert.equal(logs.includes(value), false, "the token never reaches a log line");
  });
});
