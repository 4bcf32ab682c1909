import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { AppError, createLogger } from "@cts/shared";
import { startSimulator, type Simulator } from "@cts/otc_simulator";
import { loadCloudConfig, type CloudConfig } from "../src/cloud-config/index.js";
import { createOtcClient } from "../src/otc/index.js";

/** A logger whose lines the test can read (and search for leaked secrets). */
function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: createLogger({ name: "otc-test", level: "debug", destination }), lines };
}

const fastRetry = { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };

let sim: Simulator;
let dir: string;

function cloudsFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Loads a cloud from a clouds file, never searching the developer's own directories. */
function load(file: string, cloud?: string): CloudConfig {
  return loadCloudConfig(
    { OS_CLIENT_CONFIG_FILE: file, ...(cloud === undefined ? {} : { OS_CLOUD: cloud }) },
    { cwd: dir, home: dir, etc: dir },
  );
}

/** Where the simulator's traces come from: its project, CTS from its catalog, region eu-de. */
function simulatorOrigin() {
  return {
    source: sim.ctsUrl,
    region: "eu-de",
    projectId: sim.projectId,
    domainId: sim.domainId,
  };
}

async function expectAuthFailure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "CLOUD_AUTH_FAILED");
    return error;
  }
  assert.fail("expected CLOUD_AUTH_FAILED");
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "otc-client-"));
  sim = await startSimulator({ seed: 7 });
});
after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("createOtcClient against the simulator", () => {
  test("password cloud: IAM token, project and domain from the token, CTS from the catalog's cts entry", async () => {
    const { logger, lines } = capturingLogger();
    const config = load(cloudsFile("clouds.yaml", sim.cloudsYaml()), "simulator");
    const client = await createOtcClient(config, { logger });
    assert.equal(client.authMethod, "password");
    assert.deepEqual(client.origin, simulatorOrigin());
    const ready: Record<string, unknown> | undefined = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line["msg"] === "OTC client ready");
    assert.ok(ready !== undefined, "one log line says the client is ready");
    assert.equal(ready["authMethod"], "password");
    assert.equal(ready["projectId"], sim.projectId);
    assert.equal(ready["region"], "eu-de");
    assert.equal(ready["ctsEndpointFrom"], "catalog cts");
    const log = lines.join("");
    assert.ok(!log.includes(sim.credentials.password), "the password is never logged");
    assert.equal(sim.stats().tokensIssued, 1);
  });

  test("AK/SK cloud: signed project lookup and catalog, no token at all", async () => {
    const { logger, lines } = capturingLogger();
    const config = load(cloudsFile("clouds.yaml", sim.cloudsYaml()), "simulator-aksk");
    const before = sim.stats().tokensIssued;
    const client = await createOtcClient(config, { logger });
    assert.equal(client.authMethod, "aksk");
    assert.deepEqual(client.origin, simulatorOrigin());
    assert.equal(sim.stats().tokensIssued, before);
    assert.ok(
      !lines.join("").includes(sim.credentials.secretKey),
      "the secret key is never logged",
    );
  });

  test("the seed README's clouds.yaml (quote fixed) pointed at the simulator uses AK/SK and lists traces", async () => {
    const { credentials } = sim;
    const seedStyle = `
clouds:
  otc:
    profile: otc
    auth:
      username: '${credentials.username}'
      password: '${credentials.password}'
      ak: '${credentials.accessKey}'
      sk: '${credentials.secretKey}'
      project_name: '${credentials.projectName}'
      user_domain_name: '${credentials.domainName}'
      auth_url: '${sim.iamUrl}'
    interface: 'public'
    identity_api_version: 3
`;
    const now = sim.clock.now();
    const ids = sim.addTraces([
      { trace_id: "seed-readme-1", trace_name: "login", time: now - 1000, record_time: now - 900 },
    ]);
    const config = load(cloudsFile("seed-clouds.yaml", seedStyle), "otc");
    assert.equal(config.authMethod, "aksk", "AK/SK wins when both are configured");
    const client = await createOtcClient(config, { logger: capturingLogger().logger });
    const listed: string[] = [];
    for await (const { trace } of client.listTraces(
      { from: now - 5000, to: now + 1 },
      { tracker: "system" },
    )) {
      listed.push(trace.trace_id);
    }
    assert.deepEqual(listed, ids);
  });

  test("the catalog's ctsv3 entry is preferred; CTS_ENDPOINT overrides both", async () => {
    const v3 = await startSimulator({ seed: 7, catalogCtsv3: true });
    try {
      const config = load(cloudsFile("v3.yaml", v3.cloudsYaml()), "simulator");
      const { logger, lines } = capturingLogger();
      const client = await createOtcClient(config, { logger });
      assert.equal(client.origin.source, v3.ctsUrl);
      assert.match(lines.join(""), /"ctsEndpointFrom":"catalog ctsv3"/);
      const overridden = await createOtcClient(config, {
        logger: capturingLogger().logger,
        ctsEndpoint: sim.url,
      });
      assert.equal(overridden.origin.source, `${sim.url}/v3/${v3.projectId}`);
    } finally {
      await v3.close();
    }
  });

  test("a wrong password fails with CLOUD_AUTH_FAILED naming user, domain and file, never the password", async () => {
    const wrong = sim.cloudsYaml().replace(sim.credentials.password, "Wrong-Password-123");
    const config = load(cloudsFile("wrong.yaml", wrong), "simulator");
    const error = await expectAuthFailure(
      createOtcClient(config, { logger: capturingLogger().logger }),
    );
    assert.match(error.message, /IAM token request failed: 401 The username or password is wrong/);
    assert.match(
      error.message,
      new RegExp(`user "${sim.credentials.username}" in domain "${sim.credentials.domainName}"`),
    );
    assert.match(error.message, /wrong.yaml", cloud "simulator"/);
    assert.ok(!error.message.includes("Wrong-Password-123"));
  });

  test("a wrong secret key fails on the signature (401 APIG.0301)", async () => {
    const wrong = sim.cloudsYaml().replace(sim.credentials.secretKey, "x".repeat(40));
    const config = load(cloudsFile("wrong-sk.yaml", wrong), "simulator-aksk");
    const error = await expectAuthFailure(
      createOtcClient(config, { logger: capturingLogger().logger }),
    );
    assert.match(
      error.message,
      /IAM project lookup failed: 401 APIG.0301: .*verify aksk signature fail/,
    );
    assert.match(error.message, /check auth.ak and auth.sk/);
    assert.ok(!error.message.includes("x".repeat(40)));
  });

  test("an unknown project name fails clearly", async () => {
    const other = sim.cloudsYaml().replaceAll(sim.credentials.projectName, "eu-de_nonexistent");
    const aksk = load(cloudsFile("other.yaml", other), "simulator-aksk");
    const error = await expectAuthFailure(
      createOtcClient(aksk, { logger: capturingLogger().logger }),
    );
    assert.match(error.message, /IAM knows no project "eu-de_nonexistent"/);
    const password = load(cloudsFile("other.yaml", other), "simulator");
    const scoped = await expectAuthFailure(
      createOtcClient(password, { logger: capturingLogger().logger }),
    );
    assert.match(scoped.message, /project in the scope does not exist/);
  });

  test("an unreachable IAM fails after retries with the address in the message", async () => {
    const gone = await startSimulator({ seed: 7 });
    const yaml = gone.cloudsYaml();
    await gone.close();
    const config = load(cloudsFile("gone.yaml", yaml), "simulator");
    const retries: number[] = [];
    const error = await expectAuthFailure(
      createOtcClient(config, {
        logger: capturingLogger().logger,
        retry: { ...fastRetry, maxAttempts: 3, onRetry: (event) => retries.push(event.attempt) },
      }),
    );
    assert.deepEqual(retries, [1, 2]);
    assert.match(
      error.message,
      new RegExp(
        `IAM token request could not reach ${gone.url} .*: fetch failed \\(ECONNREFUSED\\)`,
      ),
    );
  });

  test("a malformed CTS_ENDPOINT is a configuration error", async () => {
    const config = load(cloudsFile("clouds.yaml", sim.cloudsYaml()), "simulator");
    await assert.rejects(
      createOtcClient(config, { logger: capturingLogger().logger, ctsEndpoint: "cts.example" }),
      {
        code: "CONFIG_INVALID",
      },
    );
  });
});
