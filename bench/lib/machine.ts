import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";

/** The machine a result came from: without it, a figure cannot be compared with another. */
export interface MachineInfo {
  readonly nproc: number;
  readonly memGiB: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  /** 1, 5 and 15 minute load averages when the run started (before Neo4j was started). */
  readonly loadAtStart: readonly number[];
}

export const loadNow = (): number[] => loadavg().map((value) => Math.round(value * 100) / 100);

export function machineInfo(): MachineInfo {
  return {
    nproc: availableParallelism(),
    memGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    cpuModel: cpus()[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAtStart: loadNow(),
  };
}

/** The code measured: the commit, and files changed on top of it (outside bench/). */
export interface SourceInfo {
  readonly commit: string;
  readonly modified: readonly string[];
}

export function sourceInfo(cwd: string): SourceInfo {
  // Not trimmed at the start: a status line begins with a space when only the work tree changed.
  const git = (args: string[]) => {
    try {
      return execFileSync("git", args, { cwd, encoding: "utf8" }).trimEnd();
    } catch {
      return "";
    }
  };
  const modified = git(["status", "--porcelain", "--untracked-files=no"])
    .split("\n")
    .map((line) => line.slice(3))
    .filter((path) => path !== "" && !path.startsWith("bench/"));
  return { commit: git(["rev-parse", "--short", "HEAD"]) || "unknown", modified };
}
