import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppError, ErrorCode } from "@cts/shared";
import { startProcess } from "./processes.js";
import { runCommand } from "./run-command.js";

describe("runCommand: no child may hold a test forever", () => {
  test("returns what the command printed", () => {
    assert.equal(runCommand("echo", ["hello", "world"], { timeoutMs: 10_000 }), "hello world\n");
  });

  test("kills a command that runs past its limit and names it in the error", () => {
    const started = Date.now();
    assert.throws(
      () => runCommand("bash", ["-c", "echo waiting; sleep 30"], { timeoutMs: 500 }),
      (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, ErrorCode.TOOL_FAILED);
        assert.match(error.message, /^bash -c "echo waiting; sleep 30" did not finish within 1 s/);
        assert.match(error.message, /waiting/, "the last output is shown");
        assert.equal(error.details["timedOut"], true);
        return true;
      },
    );
    assert.ok(Date.now() - started < 10_000, "killed, not waited for");
  });

  test("a failing command's error has its exit code, folder and output", () => {
    assert.throws(
      () => runCommand("bash", ["-c", "echo broken >&2; exit 3"], { timeoutMs: 10_000, cwd: "/" }),
      /^AppError: bash -c "echo broken >&2; exit 3" \(in \/\) failed with exit code 3 after \d+ s\. Last output:\n[\s\S]*broken/,
    );
  });

  test("a command that cannot start says so", () => {
    assert.throws(
      () => runCommand("/nonexistent/tool", [], { timeoutMs: 10_000 }),
      /\/nonexistent\/tool could not run: .*ENOENT/,
    );
  });
});

describe("startProcess: a lifetime limit", () => {
  const bashProcess = (name: string, script: string, timeoutMs: number) =>
    startProcess({
      name,
      command: "bash",
      args: ["-c", script],
      env: { PATH: process.env["PATH"] },
      timeoutMs,
    });

  test("a process still running past timeoutMs is killed and exited() rejects naming it", async () => {
    const child = bashProcess("sleeper", "echo started; sleep 30", 700);
    await assert.rejects(child.exited(), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.match(
        error.message,
        /^sleeper \(bash -c "echo started; sleep 30"\) was still running after 1 s and was killed/,
      );
      assert.match(error.message, /started/);
      return true;
    });
  });

  test("a process that ends in time resolves with its exit code", async () => {
    const child = bashProcess("quick", "exit 4", 10_000);
    assert.equal(await child.exited(), 4);
  });
});
