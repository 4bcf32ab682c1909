import { readFileSync } from "node:fs";
import { memoryOf, MiB } from "@cts/devkit";

/** Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far; undefined if it is gone or unknown. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) of a running process, in MiB; undefined once it is gone. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return memoryOf(pid).peakRssBytes / MiB;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine spent busy (all cores; idle and iowait excluded). */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return (total - idle) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Who burnt how much CPU during a phase: the evidence for "what was the bottleneck". */
interface CpuMeter {
  /** Reads every process now: call it while a short-lived process runs, its last reading counts. */
  sample(): void;
  /**
   * Cores used on average since the start, per process name, plus `others`: what the rest of
   * the machine (colleagues' tests, say) used meanwhile, i.e. the contention.
   */
  stop(): Record<string, number>;
}

export function meterCpu(pids: Readonly<Record<string, number | undefined>>): CpuMeter {
  const started = performance.now();
  const machineBefore = machineBusySeconds();
  const read = () =>
    Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const before = read();
  const last: Record<string, number | undefined> = { ...before };
  const sample = () => {
    for (const [name, seconds] of Object.entries(read())) {
      if (seconds !== undefined) last[name] = seconds;
    }
  };
  return {
    sample,
    stop() {
      sample();
      const seconds = (performance.now() - started) / 1000;
      const cores: Record<string, number> = {};
      const round = (value: number) => Math.round(value * 100) / 100;
      let ours = 0;
      for (const name of Object.keys(pids)) {
        const start = before[name];
        const end = last[name];
        if (start !== undefined && end !== undefined && seconds > 0) {
          cores[name] = round((end - start) / seconds);
          ours += end - start;
        }
      }
      const machineAfter = machineBusySeconds();
      if (machineBefore !== undefined && machineAfter !== undefined && seconds > 0) {
        cores["others"] = round(Math.max(0, machineAfter - machineBefore - ours) / seconds);
      }
      return cores;
    },
  };
}

/** CPU milliseconds per event of a process that used `cores` over `elapsedMs` for `events`. */
export function cpuMsPerEvent(
  cores: number | undefined,
  elapsedMs: number,
  events: number,
): number | undefined {
  return cores === undefined || events === 0
    ? undefined
    : Math.round(((cores * elapsedMs) / events) * 1000) / 1000;
}
