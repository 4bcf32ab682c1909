import type { Env } from "@cts/shared";
import { spawnSync } from "node:child_process";
import { AppError, ErrorCode } from "@cts/shared";

interface RunCommandOptions {
  /** Killed (SIGKILL) after this long; the thrown AppError (TOOL_FAILED) names the command. */
  readonly timeoutMs: number;
  readonly cwd?: string;
  readonly env?: Env;
  /** Bytes of stdout and of stderr kept; default 64 MiB. */
  readonly maxBuffer?: number;
}

/** `command args...` as a person would type it, for messages. */
export function describeCommand(command: string, args: readonly string[]): string {
  return [command, ...args]
    .map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part)))
    .join(" ");
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Runs a command to completion with no standard input and a hard time limit, and returns its
 * stdout. A child that never ends would otherwise hold a synchronous test forever (as
 * `execFileSync` without a timeout does): here it is killed and the error says which command,
 * in which folder, after how long, with the last lines it printed.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions,
): string {
  const started = Date.now();
  const result = spawnSync(command, [...args], {
    cwd: options.cwd,
    env: options.env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: options.timeoutMs,
    killSignal: "SIGKILL",
    maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
  });
  const output = `${result.stdout}${result.stderr ? `\n${result.stderr}` : ""}`;
  const where = `${describeCommand(command, args)}${options.cwd === undefined ? "" : ` (in ${options.cwd})`}`;
  const error = result.error as NodeJS.ErrnoException | undefined;
  if (error?.code === "ETIMEDOUT") {
    throw new AppError(
      ErrorCode.TOOL_FAILED,
      `${where} did not finish within ${Math.round(options.timeoutMs / 1000)} s and was killed. ` +
        `Last output:\n${tail(output)}`,
      { details: { command: where, timedOut: true } },
    );
  }
  if (error !== undefined) {
    throw new AppError(ErrorCode.TOOL_FAILED, `${where} could not run: ${error.message}`, {
      details: { command: where },
    });
  }
  if (result.status !== 0) {
    const how =
      result.signal === null ? `exit code ${String(result.status)}` : `signal ${result.signal}`;
    throw new AppError(
      ErrorCode.TOOL_FAILED,
      `${where} failed with ${how} after ${Math.round((Date.now() - started) / 1000)} s. ` +
        `Last output:\n${tail(output)}`,
      { details: { command: where, status: result.status, signal: result.signal } },
    );
  }
  return result.stdout;
}
