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
