import { REPO_ROOT } from "../neo4j/settings.js";
import { startProcess, type ManagedProcess } from "./processes.js";

/** Node's flags for running a workspace entry point from its TypeScript sources. */
export const FROM_SOURCES = ["--import", "tsx", "--conditions=@cts/source"] as const;

/** The two services, by the entry point `pnpm start:exporter` / `pnpm start:sink` build from. */
export const SERVICE_ENTRY = {
  cts_exporter: "cts_exporter/src/main.ts",
  neo4j_sink: "neo4j_sink/src/main.ts",
} as const;

/** How to run a Node process at the repository root. */
export interface NodeOptions {
  /** The process's whole environment besides PATH and HOME: nothing else of the caller leaks in. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The name in logs and errors. */
  readonly name: string;
  /** See StartOptions.timeoutMs; `Infinity` for the demo. */
  readonly timeoutMs?: number;
  /** Also copy the output here. */
  readonly echo?: NodeJS.WritableStream;
}

export interface ServiceOptions extends Omit<NodeOptions, "name"> {
  /** Arguments after the entry point, e.g. `--once`. */
  readonly args?: readonly string[];
  /** Node flags before the entry point, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** The name in logs and errors; defaults to the service's. */
  readonly name?: string;
}

/**
 * Runs this Node with `args` (its flags, a script and the script's arguments) in its own process,
 * at the repository root, with only PATH, HOME and `options.env`.
 */
export function startNode(args: readonly string[], options: NodeOptions): ManagedProcess {
  return startProcess({
    name: options.name,
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"], HOME: process.env["HOME"], ...options.env },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.echo === undefined ? {} : { echo: options.echo }),
  });
}

/**
 * Starts a service (or any workspace entry point) from the TypeScript sources in its own Node
 * process, at the repository root, with only PATH, HOME and `options.env`.
 */
export function startService(
  entry: keyof typeof SERVICE_ENTRY | (string & {}),
  options: ServiceOptions = {},
): ManagedProcess {
  const file = entry in SERVICE_ENTRY ? SERVICE_ENTRY[entry as keyof typeof SERVICE_ENTRY] : entry;
  return startNode([...FROM_SOURCES, ...(options.nodeArgs ?? []), file, ...(options.args ?? [])], {
    ...options,
    name: options.name ?? (entry in SERVICE_ENTRY ? entry : file),
  });
}
