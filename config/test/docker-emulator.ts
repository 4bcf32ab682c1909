/**
 * Runs a two-stage Node Dockerfile without Docker, as far as that can be done faithfully: the
 * build stage's COPY instructions copy from the build context as the .dockerignore filters
 * it, its RUN instructions run with bash in a folder standing for the image's filesystem
 * (absolute paths in them are moved under that folder), and the final stage's `COPY --from`
 * copies the result into a second folder. What it cannot do, it skips and reports: installing
 * pnpm globally (the machine's pnpm must be the pinned one) and the final stage's RUN lines
 * (they only delete files of the base image).
 */
import { runCommand } from "@cts/devkit";
import { cpSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { execForm, parseCopy, parseEnv, type DockerIgnore, type Dockerfile } from "./dockerfile.js";

export interface EmulatedImage {
  /** The final stage's WORKDIR, on this machine. */
  readonly appDir: string;
  /** The final stage's ENV. */
  readonly env: Readonly<Record<string, string>>;
  /** The final stage's CMD in exec form, undefined in shell form or without one. */
  readonly cmd: readonly string[] | undefined;
  /** Instructions that were not run, with why. */
  readonly skipped: readonly string[];
}

/** Every file of the context the .dockerignore lets through, relative, forward slashes. */
export function contextFiles(contextDir: string, ignore: DockerIgnore, under = ""): string[] {
  const dir = join(contextDir, under);
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = under === "" ? entry : `${under}/${entry}`;
      // .git is never sent; skipping it here only saves time.
      if (path === ".git") return [];
      const stats = statSync(join(dir, entry), { throwIfNoEntry: false });
      if (stats === undefined) return [];
      if (stats.isDirectory()) return contextFiles(contextDir, ignore, path);
      return ignore.excludes(path) ? [] : [path];
    });
}

function copyFromContext(context: {
  contextDir: string;
  files: readonly string[];
  copy: { sources: readonly string[]; destination: string };
  target: (imagePath: string) => string;
}): void {
  const { contextDir, files, copy, target } = context;
  for (const source of copy.sources) {
    const clean = source.replace(/\/$/, "");
    const matching = files.filter((file) => file === clean || file.startsWith(`${clean}/`));
    if (matching.length === 0) throw new Error(`COPY ${source}: nothing in the context`);
    for (const file of matching) {
      const inside = file === clean ? file.split("/").pop()! : file.slice(clean.length + 1);
      const destination = copy.destination.endsWith("/")
        ? posix.join(copy.destination, inside)
        : file === clean && copy.sources.length === 1
          ? copy.destination
          : posix.join(copy.destination, inside);
      const path = target(destination);
      mkdirSync(dirname(path), { recursive: true });
      cpSync(join(contextDir, file), path);
    }
  }
}

/** Runs the Dockerfile's stages under `scratchDir`; returns where the final WORKDIR landed. */
export function emulateImage(options: {
  dockerfile: Dockerfile;
  contextDir: string;
  ignore: DockerIgnore;
  scratchDir: string;
  /** The environment RUN lines start from (PATH, HOME for pnpm's store, ...). */
  baseEnv: Readonly<Record<string, string>>;
  /** Each RUN line is killed after this long, with an error naming it. */
  runTimeoutMs: number;
}): EmulatedImage {
  const { dockerfile, contextDir, ignore, scratchDir, baseEnv, runTimeoutMs } = options;
  const files = contextFiles(contextDir, ignore);
  const skipped: string[] = [];
  const roots = new Map<string, string>();
  let appDir = "";
  let finalEnv: Record<string, string> = {};
  let cmd: string[] | undefined;

  dockerfile.stages.forEach((stage, index) => {
    const root = join(scratchDir, `stage-${index}`);
    mkdirSync(root, { recursive: true });
    if (stage.name !== undefined) roots.set(stage.name, root);
    const onDisk = (imagePath: string) => join(root, ...imagePath.split("/").filter(Boolean));
    let workdir = "/";
    const env: Record<string, string> = {};
    for (const instruction of stage.instructions) {
      switch (instruction.keyword) {
        case "WORKDIR":
          workdir = posix.resolve(workdir, instruction.args);
          mkdirSync(onDisk(workdir), { recursive: true });
          break;
        case "ENV":
          for (const [key, value] of parseEnv(instruction.args)) env[key] = value;
          break;
        case "COPY": {
          const copy = parseCopy(instruction.args);
          const destination =
            posix.resolve(workdir, copy.destination) + (copy.destination.endsWith("/") ? "/" : "");
          if (copy.from === undefined) {
            copyFromContext({
              contextDir,
              files,
              copy: { sources: copy.sources, destination },
              target: onDisk,
            });
            break;
          }
          const fromRoot = roots.get(copy.from);
          if (fromRoot === undefined) throw new Error(`COPY --from=${copy.from}: no such stage`);
          for (const source of copy.sources) {
            const from = join(fromRoot, ...source.split("/").filter(Boolean));
            // Symlinks are copied as links, as COPY does; node_modules is full of them.
            cpSync(from, onDisk(destination), { recursive: true, verbatimSymlinks: true });
          }
          break;
        }
        case "RUN": {
          if (index > 0) {
            skipped.push(`final stage RUN ${instruction.args}`);
            break;
          }
          if (/^npm install --global\b/.test(instruction.args)) {
            skipped.push(`RUN ${instruction.args} (the machine's pnpm is used)`);
            break;
          }
          const command = instruction.args.replace(
            /(^|\s)(\/[\w.@/-]*)/g,
            (_match, space: string, path: string) => `${space}${onDisk(path)}`,
          );
          runCommand("bash", ["-euo", "pipefail", "-c", command], {
            cwd: onDisk(workdir),
            env: { ...baseEnv, ...env },
            timeoutMs: runTimeoutMs,
          });
          break;
        }
        case "CMD":
          cmd = execForm(instruction.args);
          break;
        default:
          break;
      }
    }
    appDir = onDisk(workdir);
    finalEnv = env;
  });
  return { appDir, env: finalEnv, cmd, skipped };
}

/** Files under `dir` (relative, forward slashes), symlinks not followed. */
export function listTree(dir: string, under = ""): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true }).flatMap((entry) => {
    const path = under === "" ? entry.name : `${under}/${entry.name}`;
    return entry.isDirectory() ? [path, ...listTree(dir, path)] : [path];
  });
}
