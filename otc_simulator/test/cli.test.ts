import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "sim-cli-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the CLI; resolves with its output once `until` matches, then stops it with SIGTERM. */
function runCli(args: string[], until: RegExp) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=@cts/source", cli, ...args],
    {
      env: { PATH: process.env["PATH"] },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    const fail = () => {
      reject(
        new Error(
          `pnpm simulator (node ${cli} ${args.join(" ")}) did not print ${String(until)} within 20 s: ${stdout}${stderr}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail();
    }, 20_000);
    child.on("close", () => {
      clearTimeout(timer);
      fail(); // a no-op once resolved
    });
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (until.test(stdout)) {
        clearTimeout(timer);
        resolve(stdout);
      }
    });
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
  return { child, ready, exited };
}

describe("pnpm simulator", () => {
  test("prints a clouds.yaml with a password and an AK/SK cloud, serves it, and stops cleanly on SIGTERM", async () => {
    const written = join(dir, "clouds.yaml");
    const run = runCli(
      ["--port", "0", "--seed", "3", "--rate", "0", "--preload", "50", "--write-clouds", written],
      /Ctrl-C/,
    );
    const output = await run.ready;
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    assert.ok(url !== undefined, output);
    assert.match(
      output,
      /^clouds:\n {2}simulator:\n {4}profile: otc\n {4}auth:\n {6}username: 'sim-operator'\n {6}password: 'Sim-\w+'\n/m,
    );
    assert.match(
      output,
      /^ {2}simulator-aksk:\n(.*\n){2} {6}ak: '[A-Z0-9]{20}'\n {6}sk: '\w{40}'\n/m,
    );
    assert.match(output, new RegExp(`auth_url: '${url}/v3'`));
    assert.match(output, /OS_CLOUD=simulator \(password\) or OS_CLOUD=simulator-aksk \(AK\/SK\)/);
    const file = readFileSync(written, "utf8");
    assert.ok(output.includes(file), "the written file is what was printed");
    assert.equal(statSync(written).mode & 0o777, 0o600, "it holds secrets: owner-only");

    const version = await fetch(`${url}/v3`);
    assert.equal(version.status, 200);

    run.child.kill("SIGTERM");
    const { code, stdout } = await run.exited;
    assert.equal(code, 0);
    assert.match(
      stdout,
      /stopped: 1 IAM and 0 CTS requests, 0 traces served, 0 faults injected, 50 traces stored/,
    );
  });

  test("a bad option exits 64 with the usage", async () => {
    const run = runCli(["--faults", "3:meteor"], /never/);
    run.ready.catch(() => undefined);
    const { code, stderr } = await run.exited;
    assert.equal(code, 64);
    assert.match(stderr, /--faults needs EVERY:KIND/);
    assert.match(stderr, /usage: pnpm simulator/);
  });
});
