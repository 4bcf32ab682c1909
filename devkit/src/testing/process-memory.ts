import { readFileSync } from "node:fs";

export const MiB = 1024 * 1024;

/**
 * Resident memory of a running process from /proc/<pid>/status, in bytes: now (VmRSS) and the
 * peak since it started (VmHWM). Throws when the process is gone or the kernel has no /proc.
 */
export function memoryOf(pid: number): { rssBytes: number; peakRssBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
    if (match === null) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib("VmRSS"), peakRssBytes: kib("VmHWM") };
}
