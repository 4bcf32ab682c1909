import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { freePort, REPO_ROOT } from "@cts/devkit";
import { sinkForSuite } from "@cts/neo4j_sink/testing";
import { placeCase } from "../src/fixtures.js";
import { loadFixtures } from "../src/loader.js";
import { loadThroughSink } from "./support.js";

/** The fixtures land at whatever hour the test runs: no hour or weekday is unusual here. */
const ANY_HOUR = [
  "--param",
  "workStartHour=0",
  "--param",
  "workEndHour=24",
  "--param",
  "weekendsUnusual=false",
];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function detect(args: readonly string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--conditions=@cts/source", "detections/src/cli.ts", ...args],
      { cwd: REPO_ROOT, env: { PATH: process.env["PATH"], ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A receiver that records every request and answers `status`. */
async function receiver(status: () => number) {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

describe("pnpm detect (the CLI against a real Neo4j)", () => {
  const ctx = sinkForSuite();
  let env: Record<string, string>;
  const stateDir = mkdtempSync(join(tmpdir(), "detect-state-"));

  before(async () => {
    // Two firing cases, placed so that they fall into the last 24 hours.
    const since = Date.now() - 20 * 3_600_000;
    const fixtures = loadFixtures();
    const pick = (rule: string) => {
      const file = fixtures.find((f) => f.rule === rule)!;
      return placeCase(
        rule,
        file.cases.find((c) => c.expect.length > 0)!,
        since,
      );
    };
    const placed = [pick("iam-user-created"), pick("cts-tracker-deleted")];
    await loadThroughSink(
      ctx.sink.url,
      placed.flatMap((p) => p.traces.filter((t) => Number(t["time"]) < Date.now())),
    );
    env = { NEO4J_URI: ctx.neo.uri, NEO4J_USER: ctx.neo.user, NEO4J_PASSWORD: ctx.neo.password };
  });

  test("findings: exit 3, a progress line per rule on stderr, the findings as JSON", async () => {
    const run = await detect(["--since", "24h", "--format", "json", ...ANY_HOUR], env);
    assert.equal(run.code, 3, run.stderr);
    const report = JSON.parse(run.stdout) as { findings: { identity: string }[]; rules: unknown[] };
    assert.deepEqual(report.findings.map((f) => f.identity).sort(), [
      "cts-tracker-deleted/trd-1",
      "iam-user-created/uc-1",
    ]);
    const progress = run.stderr.split("\n").filter((line) => /^\[\s*\d+\/\d+\] /.test(line));
    assert.equal(progress.length, report.rules.length);
    assert.ok(report.rules.length >= 30);
  });

  test("the table report ends with a summary per rule", async () => {
    const run = await detect(["--rule", "iam-user-created", "--rule", "kms-key-disabled"], env);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /Summary: 1 finding from 2 rules \(1 low\)/);
    assert.match(run.stdout, /low +iam-user-created +1 +IAM user created/);
  });

  test("nothing found: exit 0", async () => {
    const run = await detect(["--rule", "kms-key-disabled", "--since", "2h"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /No findings from 1 rules/);
  });

  test("bad arguments and configuration: exit 78 with a message saying what to fix", async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--since", "yesterday"], env, /--since "yesterday" is neither a duration/],
      [["--rule", "no-such-rule"], env, /unknown rule no-such-rule/],
      [["--format", "xml"], env, /--format "xml" is not one of table, json/],
      [["--param", "nope=1"], env, /--param nope: no selected rule/],
      [["--since", "1h", "--until", "2h"], env, /must be before --until/],
      [["--bogus"], env, /unknown argument "--bogus"/],
      [[], { ...env, NEO4J_PASSWORD: "" }, /NEO4J_PASSWORD is not set/],
      [[], { ...env, NEO4J_PASSWORD: "wrong" }, /rejected the credentials of user neo4j/],
      [["--emit"], env, /--emit needs K_SINK/],
    ];
    for (const [args, environment, message] of cases) {
      const run = await detect(args, environment);
      assert.equal(run.code, 78, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.ok(
        !run.stderr.includes(ctx.neo.password) || ctx.neo.password === "",
        "no password in output",
      );
    }
  });

  test("Neo4j unreachable: exit 69", async () => {
    const port = await freePort();
    const run = await detect([], { ...env, NEO4J_URI: `bolt://127.0.0.1:${port}` });
    assert.equal(run.code, 69, run.stderr);
    assert.match(run.stderr, /is unreachable/);
  });

  test("--emit posts each finding once as a CloudEvent and remembers it", async () => {
    const target = await receiver(() => 202);
    const stateFile = join(stateDir, "emitted.json");
    try {
      const first = await detect(["--emit", "--state-file", stateFile, ...ANY_HOUR], {
        ...env,
        K_SINK: target.url,
      });
      assert.equal(first.code, 3, first.stderr);
      assert.match(first.stderr, /emitted 2 new finding\(s\).*0 already emitted, 0 failed/);
      const subjects = target.received.map((r) => r.headers["ce-subject"]).sort();
      assert.deepEqual(subjects, ["cts-tracker-deleted/trd-1", "iam-user-created/uc-1"]);
      const event = target.received.find(
        (r) => r.headers["ce-subject"] === "iam-user-created/uc-1",
      )!;
      assert.equal(event.headers["ce-type"], "cloud.otc.cts.detection");
      assert.equal(event.headers["ce-specversion"], "1.0");
      assert.equal(event.headers["ce-severity"], "low");
      const data = JSON.parse(event.body) as {
        rule: string;
        key: string;
        finding: { user: string };
      };
      assert.equal(data.rule, "iam-user-created");
      assert.equal(data.key, "uc-1");
      assert.equal(data.finding.user, "admin");
      const state = JSON.parse(readFileSync(stateFile, "utf8")) as { emitted: object };
      assert.deepEqual(Object.keys(state.emitted).sort(), subjects);

      const second = await detect(["--emit", "--state-file", stateFile, ...ANY_HOUR], {
        ...env,
        K_SINK: target.url,
      });
      assert.equal(second.code, 3, second.stderr);
      assert.match(second.stderr, /emitted 0 new finding\(s\).*2 already emitted/);
      assert.equal(target.received.length, 2, "nothing posted twice");
    } finally {
      await target.close();
    }
  });

  test("--emit: a refused post exits 75 and is tried again next run; a damaged state file is 78", async () => {
    let status = 503;
    const target = await receiver(() => status);
    const stateFile = join(stateDir, "retry.json");
    try {
      const failing = await detect(
        ["--emit", "--rule", "iam-user-created", "--state-file", stateFile],
        {
          ...env,
          K_SINK: target.url,
        },
      );
      assert.equal(failing.code, 75, failing.stderr);
      assert.match(failing.stderr, /could not emit iam-user-created\/uc-1: HTTP 503/);
      status = 202;
      const retried = await detect(
        ["--emit", "--rule", "iam-user-created", "--state-file", stateFile],
        {
          ...env,
          K_SINK: target.url,
        },
      );
      assert.equal(retried.code, 3, retried.stderr);
      assert.equal(target.received.length, 2);
      writeFileSync(stateFile, "not json");
      const damaged = await detect(["--emit", "--state-file", stateFile], {
        ...env,
        K_SINK: target.url,
      });
      assert.equal(damaged.code, 78, damaged.stderr);
      assert.match(damaged.stderr, /is not a detections state file/);
    } finally {
      await target.close();
    }
  });
});
