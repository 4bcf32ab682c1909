/**
 * Hostile input to the exporter (issue 8, item 3), run as a child process as in production:
 * broken clouds.yaml files that carry a secret in the broken line, wrong credentials, bad
 * K_CE_OVERRIDES (what test/exporter.e2e.test.ts does not cover yet), and a CTS that answers
 * garbage: the simulator plays IAM, CTS_ENDPOINT points at a tiny fake CTS in this file. Every
 * case must end in a clear message, CTS must see backoff instead of a tight loop, and no log
 * line may carry the password, the secret key or an IAM token.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtemp, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { freePort, waitFor, type ManagedProcess, startService } from "@cts/devkit";
import { startSimulator, type Simulator } from "@cts/otc_simulator";
import { startEventReceiver, type EventReceiver } from "./support/event-receiver.js";
import { assertNoSecrets, simulatorSecrets, type Secrets } from "./support/secrets.js";

/** How long each fake-CTS scenario runs the exporter once CTS saw its first request. */
const WINDOW_MS = 10_000;
/** CTS requests allowed in that window at a 1 s poll interval; a tight loop makes thousands. */
const MAX_REQUESTS = 60;

function exporter(env: Record<string, string>, args: string[] = []): ManagedProcess {
  return startService("cts_exporter", {
    args,
    env,
  });
}

/** Runs `jobs` with at most `limit` at a time (each one is a node process on 2 shared cores). */
async function inBatches<T>(limit: number, jobs: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < jobs.length; i += limit) {
    results.push(...(await Promise.all(jobs.slice(i, i + limit).map((job) => job()))));
  }
  return results;
}

let dir: string;
let sim: Simulator;
let receiver: EventReceiver;
let runs: Map<string, Promise<Run>>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cts-hostile-exporter-"));
  sim = await startSimulator({ seed: 808 });
  receiver = await startEventReceiver();
  runs = startScenarioRuns();
});
after(async () => {
  await Promise.allSettled(runs.values());
  await receiver.close();
  await sim.close();
});

async function file(name: string, text: string | Buffer): Promise<string> {
  const path = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
  await writeFile(path, text);
  return path;
}

describe("hostile configuration: exit 78 or 70 with a message that names the problem", () => {
  /** A secret of our own, in lines the YAML parser chokes on. */
  const SECRET = "Sup3r-S3cret-Pw-4711";
  const auth = (password: string) =>
    [
      "clouds:",
      "  otc:",
      "    auth:",
      `      auth_url: ${sim.iamUrl}`,
      "      username: sim-operator",
      `      password: ${password}`,
      "      project_name: eu-de_simulator",
      "      user_domain_name: OTC00000000001000000001",
      "",
    ].join("\n");

  interface Case {
    readonly name: string;
    readonly env: () => Promise<Record<string, string>>;
    readonly exit: number;
    readonly message: RegExp;
    readonly secrets?: Secrets;
  }
  const cases: Case[] = [
    {
      name: "an unclosed quote with the password on the broken line",
      env: async () => ({ OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", auth(`"${SECRET}`)) }),
      exit: 78,
      message: /is not valid YAML at line \d+, column \d+/,
    },
    {
      name: "tabs for indentation",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file(
          "clouds.yaml",
          auth(SECRET).replace("    auth", "\tauth"),
        ),
      }),
      exit: 78,
      message: /is not valid YAML at line 3/,
    },
    {
      name: "the password twice (duplicated key)",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file(
          "clouds.yaml",
          auth(SECRET).replace(
            `password: ${SECRET}`,
            `password: ${SECRET}\n      password: x${SECRET}`,
          ),
        ),
      }),
      exit: 78,
      message: /duplicated mapping key/,
    },
    {
      name: "an unquoted number as the password",
      env: async () => ({ OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", auth("0123456789")) }),
      exit: 78,
      message: /auth\.password must be text; put the value in quotes/,
      secrets: { password: "0123456789" },
    },
    {
      name: "the password as a list",
      env: async () => ({ OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", auth(`[${SECRET}]`)) }),
      exit: 78,
      message: /auth\.password must be text/,
    },
    {
      name: "clouds as a list",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", `clouds:\n  - password: ${SECRET}\n`),
      }),
      exit: 78,
      message: /clouds must be a mapping of cloud names to settings/,
    },
    {
      name: "bytes that are no text",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file(
          "clouds.yaml",
          Buffer.concat([Buffer.from(auth(SECRET)), Buffer.from([0xff, 0xfe, 0x00, 0x01])]),
        ),
      }),
      exit: 78,
      message: /clouds\.yaml/,
    },
    {
      name: "a clouds.json with a syntax error",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file(
          "clouds.json",
          `{"clouds": {"otc": {"auth": {"password": "${SECRET}",}}}`,
        ),
      }),
      exit: 78,
      message: /clouds\.json\W{1,3}: is not valid YAML at line 1/,
    },
    {
      name: "a broken secure.yaml holding the secret",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", sim.cloudsYaml({ cloud: "otc" })),
        OS_CLIENT_SECURE_FILE: await file(
          "secure.yaml",
          `clouds:\n  otc:\n    auth:\n      password: "${SECRET}\n`,
        ),
      }),
      exit: 78,
      message: /secure\.yaml\W{1,3}: is not valid YAML/,
    },
    {
      name: "an unknown cloud among several",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", sim.cloudsYaml({ cloud: "otc" })),
        OS_CLOUD: "prod",
      }),
      exit: 78,
      message: /OS_CLOUD is \W+prod\W+ but .* has no such cloud; it has: otc/,
    },
    {
      name: "a wrong secret key (AK/SK)",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file(
          "clouds.yaml",
          sim.cloudsYaml({ cloud: "otc" }).replace(sim.credentials.secretKey, SECRET),
        ),
        OS_CLOUD: "otc-aksk",
      }),
      exit: 70,
      message: /401/,
    },
    {
      name: "a wrong user name",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file(
          "clouds.yaml",
          sim.cloudsYaml({ cloud: "otc" }).replace(sim.credentials.username, "intruder"),
        ),
      }),
      exit: 70,
      message: /IAM token request failed: 401.*intruder/,
    },
    {
      name: "an IAM that does not answer",
      env: async () => ({
        OS_CLIENT_CONFIG_FILE: await file(
          "clouds.yaml",
          sim.cloudsYaml({ cloud: "otc" }).replace(sim.url, `http://127.0.0.1:${await freePort()}`),
        ),
        OS_CLOUD: "otc",
      }),
      exit: 70,
      message: /ECONNREFUSED/,
    },
    {
      name: "K_CE_OVERRIDES that is no JSON (and carries the secret key)",
      env: () => Promise.resolve({ K_CE_OVERRIDES: `{extensions: ${sim.credentials.secretKey}` }),
      exit: 78,
      message: /K_CE_OVERRIDES is not valid JSON/,
    },
    {
      name: "K_CE_OVERRIDES whose extensions are a list",
      env: () => Promise.resolve({ K_CE_OVERRIDES: '{"extensions":["team"]}' }),
      exit: 78,
      message: /an \W+extensions\W+ that is not an object/,
    },
    {
      name: "K_CE_OVERRIDES overriding the id",
      env: () => Promise.resolve({ K_CE_OVERRIDES: '{"extensions":{"id":"fixed"}}' }),
      exit: 78,
      message: /override the reserved attribute \W+id\W/,
    },
    {
      name: "K_CE_OVERRIDES with an object value",
      env: () =>
        Promise.resolve({
          K_CE_OVERRIDES: `{"extensions":{"team":{"sk":"${sim.credentials.secretKey}"}}}`,
        }),
      exit: 78,
      message: /non-scalar value for extension \W+team\W/,
    },
  ];

  test("each case, run as a process with --once", async (t) => {
    const outcomes = await inBatches(
      4,
      cases.map((c) => async () => {
        const child = exporter(
          {
            OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", sim.cloudsYaml({ cloud: "otc" })),
            OS_CLOUD: "otc",
            K_SINK: receiver.url,
            ...(await c.env()),
          },
          ["--once"],
        );
        return { c, code: await child.exited(), output: child.output() };
      }),
    );
    for (const { c, code, output } of outcomes) {
      assert.equal(code, c.exit, `${c.name}: exit code\n${output}`);
      assert.match(output, c.message, c.name);
      assert.match(output, /"level":"fatal"/, `${c.name}: logged as fatal`);
      assertNoSecrets(
        output,
        { ...simulatorSecrets(sim), ownSecret: SECRET, ...c.secrets },
        `${c.name}: the log`,
      );
      t.diagnostic(`${c.name}: exit ${code}`);
    }
  });

  const leaks: [string, string][] = [
    ["a password starting with ! (read as a YAML tag)", `!${SECRET}`],
    ["a password starting with * (read as a YAML alias)", `*${SECRET}`],
  ];
  for (const [name, password] of leaks) {
    test(`${name} is not printed in the syntax error`, async () => {
      const child = exporter(
        {
          OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", auth(password)),
          K_SINK: receiver.url,
        },
        ["--once"],
      );
      assert.equal(await child.exited(), 78, child.output());
      assert.match(child.output(), /is not valid YAML at line 6/);
      assert.match(child.output(), /put such values in quotes/);
      assertNoSecrets(child.output(), { password: SECRET }, "the log");
    });
  }
});

/** A CTS stand-in that answers every trace listing with `answer`, counting requests. */
interface FakeCts {
  readonly url: string;
  readonly requests: number;
  close(): Promise<void>;
}

type Answer = (page: number, response: ServerResponse, request: IncomingMessage) => void;

async function startFakeCts(answer: Answer): Promise<FakeCts> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    if (!/^\/v3\/[^/]+\/traces/.test(request.url ?? "")) {
      response.writeHead(404, { "content-type": "application/json" });
      response.end('{"error_code":"CTS.0001","error_msg":"no such path"}');
      return;
    }
    requests++;
    const page = new URL(request.url ?? "/", "http://fake").searchParams.has("next") ? 2 : 1;
    answer(page === 1 ? 1 : requests, response, request);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(typeof body === "string" ? body : JSON.stringify(body));
};
const HTML =
  "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1></body></html>\n";
let traceSeq = 0;
const traces = (count: number) =>
  Array.from({ length: count }, () => {
    traceSeq++;
    const time = Date.now() - 30_000 - traceSeq;
    return { trace_id: `fake-${traceSeq}`, trace_name: "listTraces", time, record_time: time };
  });
const SAME = traces(3);

interface Scenario {
  readonly name: string;
  readonly answer: Answer;
  /** What the exporter's log must say about it. */
  readonly message: RegExp;
}

const scenarios: Scenario[] = [
  {
    name: "garbage JSON",
    answer: (_page, response) => {
      json(response, 200, '{"traces": [{"trace_id": "x", "time": 1,,]');
    },
    message: /CTS trace list page 1 from .* is not a trace page/,
  },
  {
    name: "an HTML error page with status 502",
    answer: (_page, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end(HTML);
    },
    message: /CTS trace list failed: 502 <!DOCTYPE html>/,
  },
  {
    name: "an HTML page with status 200",
    answer: (_page, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end(HTML);
    },
    message: /is not a trace page/,
  },
  {
    name: "a body cut off mid-way",
    answer: (_page, response) => {
      const body = JSON.stringify({ traces: traces(50), meta_data: { count: 50, marker: null } });
      response.writeHead(200, {
        "content-type": "application/json",
        "content-length": String(body.length),
      });
      response.write(body.slice(0, 300));
      setTimeout(() => response.destroy(), 20);
    },
    message: /CTS trace list could not reach .*terminated/,
  },
  {
    name: "a new marker on every page with the same traces",
    answer: (page, response) => {
      json(response, 200, { traces: SAME, meta_data: { count: 3, marker: `m-${page}` } });
    },
    message: /sent the previous page again under a new marker .*the checkpoint stays/,
  },
  {
    name: "a new marker on every page with new traces",
    answer: (_page, response) => {
      const page = traces(3);
      json(response, 200, { traces: page, meta_data: { count: 3, marker: page[2]!.trace_id } });
    },
    message: /newer traces instead of older ones .*the checkpoint stays/,
  },
];

interface Run {
  readonly requests: number;
  readonly exit: number | string;
  readonly output: string;
}

/**
 * One exporter per fake-CTS scenario, all at once and started before the configuration cases
 * run, so the 10-second windows overlap each other and those cases.
 */
function startScenarioRuns(): Map<string, Promise<Run>> {
  const runs = new Map<string, Promise<Run>>();
  for (const scenario of scenarios) {
    const run = (async () => {
      const cts = await startFakeCts(scenario.answer);
      const child = exporter({
        OS_CLIENT_CONFIG_FILE: await file("clouds.yaml", sim.cloudsYaml({ cloud: "otc" })),
        OS_CLOUD: "otc",
        CTS_ENDPOINT: cts.url,
        K_SINK: receiver.url,
        CTS_FROM: "5",
        CTS_POLL_INTERVAL_SECONDS: "1",
        PORT: String(await freePort()),
      });
      try {
        await waitFor(() => cts.requests > 0 || child.child.exitCode !== null, {
          timeoutMs: 60_000,
          message: `${scenario.name}: the exporter asked CTS`,
        });
        const first = cts.requests;
        await sleep(WINDOW_MS);
        const requests = cts.requests - first + 1;
        const exit = await child.stop("SIGTERM", 15_000);
        return { requests, exit, output: child.output() };
      } finally {
        await child.stop("SIGKILL");
        await cts.close();
      }
    })();
    run.catch(() => undefined); // awaited by its test; never an unhandled rejection meanwhile
    runs.set(scenario.name, run);
  }
  return runs;
}

describe("a hostile CTS: a clear error, backoff instead of a tight loop, no secret logged", () => {
  for (const scenario of scenarios) {
    test(`CTS answers ${scenario.name}`, async (t) => {
      const run = await runs.get(scenario.name)!;
      t.diagnostic(
        `${scenario.name}: ${run.requests} CTS requests in ${WINDOW_MS / 1000} s; exit ${run.exit}`,
      );
      assert.equal(run.exit, 0, `stops cleanly on SIGTERM\n${run.output.slice(-2000)}`);
      assert.match(run.output, scenario.message, "a clear error in the log");
      const line = run.output.split("\n").find((text) => scenario.message.test(text)) ?? "";
      t.diagnostic(`log: ${line.slice(0, 400)}`);
      assertNoSecrets(run.output, simulatorSecrets(sim), "the exporter's log");
      assert.ok(run.requests >= 2, `CTS was polled again (${run.requests})`);
      assert.ok(
        run.requests < MAX_REQUESTS,
        `${run.requests} requests in ${WINDOW_MS / 1000} s: a tight loop, not backoff`,
      );
    });
  }

  test("the tokens the simulator issued were checked", () => {
    assert.ok(sim.issuedTokens().length >= 1, "the fake-CTS runs authenticated with a token");
  });
});
