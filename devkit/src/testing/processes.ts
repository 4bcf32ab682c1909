import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError, ErrorCode } from "@cts/shared";
import { describeCommand } from "./run-command.js";

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return port;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process ended. */
  exited(): Promise<number | string>;
  /** Sends a signal and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Also copy the output to this stream (e.g. process.stderr for a demo). */
  readonly echo?: NodeJS.WritableStream;
  /**
   * How long the process may live: past it, it is killed (SIGKILL) and `exited()` rejects with an
   * AppError (TOOL_FAILED) naming the command, so a hung child fails its test instead of holding the run.
   * Default 10 minutes; `Infinity` for a process meant to run until stopped (the demo).
   */
  readonly timeoutMs?: number;
}

const DEFAULT_LIFETIME_MS = 10 * 60_000;

/** Starts a child process and captures its output (bounded to the last 20 MB). */
export function startProcess(options: StartOptions): ManagedProcess {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const limit = 20 * 1024 * 1024;
  let captured = "";
  const append = (chunk: Buffer) => {
    captured += chunk.toString("utf8");
    if (captured.length > limit) captured = captured.slice(-limit);
    options.echo?.write(chunk);
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  const lifetime = options.timeoutMs ?? DEFAULT_LIFETIME_MS;
  let expired = false;
  const lifetimeTimer = Number.isFinite(lifetime)
    ? setTimeout(() => {
        expired = true;
        child.kill("SIGKILL");
      }, lifetime)
    : undefined;
  lifetimeTimer?.unref();
  const exit = new Promise<number | string>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      clearTimeout(lifetimeTimer);
      if (expired) {
        const command = describeCommand(options.command, options.args);
        reject(
          new AppError(
            ErrorCode.TOOL_FAILED,
            `${options.name} (${command}) was still running after ${Math.round(lifetime / 1000)} s and was killed. ` +
              `Last output:\n${captured.trimEnd().split("\n").slice(-20).join("\n")}`,
            { details: { command, timedOut: true } },
          ),
        );
        return;
      }
      resolve(code ?? signal ?? "unknown");
    });
  });
  return {
    name: options.name,
    child,
    output: () => captured,
    exited: () => exit,
    async stop(signal = "SIGTERM", graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exit;
      child.kill(signal);
      // The grace timer is cancelled once the process exits, so it cannot keep a test file alive.
      const timer = new AbortController();
      const grace = sleep(graceMs, "timeout" as const, { signal: timer.signal }).catch(
        () => "exited" as const,
      );
      const winner = await Promise.race([exit, grace]);
      timer.abort();
      if (winner === "timeout") {
        child.kill("SIGKILL");
        return exit;
      }
      return winner;
    },
  };
}

/** Polls `url` until it answers 2xx; throws with the process output when it does not in time. */
export async function waitForHttp(
  url: string,
  options: { timeoutMs?: number; process?: ManagedProcess } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    const exited =
      options.process !== undefined &&
      (options.process.child.exitCode !== null || options.process.child.signalCode !== null);
    if (exited || Date.now() > deadline) {
      const tail = options.process?.output().split("\n").slice(-20).join("\n") ?? "";
      throw new Error(
        `${url} did not become ready${exited ? " (the process exited)" : ""}\n${tail}`,
      );
    }
    await sleep(200);
  }
}

/** Polls `check` until it returns true, or throws `message` after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; message: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms: ${options.message}`);
    await sleep(options.intervalMs ?? 200);
  }
}

/**
 * Secret hygiene: lists which of `secrets` appear in `text` (also URL- and JSON-escaped forms),
 * so a test can assert none of them reached a log line.
 */
export function leakedSecrets(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => {
    if (secret.length < 6) return false;
    const forms = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
    return forms.some((form) => text.includes(form));
  });
}

/** True while a process with this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a process we did not spawn (only its pid file is known): `signal`, then SIGKILL if it is
 * still there after `graceMs`; resolves once it is gone or, at worst, 10 s after the SIGKILL.
 */
export async function endPid(
  pid: number,
  signal: NodeJS.Signals,
  graceMs: number,
  onForce?: () => void,
): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, signal);
  const graceEnd = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < graceEnd) await sleep(50);
  if (!isAlive(pid) || signal === "SIGKILL") return;
  onForce?.();
  process.kill(pid, "SIGKILL");
  for (let i = 0; i < 200 && isAlive(pid); i++) await sleep(50);
}
