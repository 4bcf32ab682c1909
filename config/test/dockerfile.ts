/**
 * A Dockerfile reader and a .dockerignore matcher, for tests on a machine without a Docker
 * engine. The reader follows the Dockerfile reference for what these files use: comments,
 * `\` continuations, global ARGs in FROM, stages, exec-form (JSON) CMD, COPY flags and ENV.
 * The matcher follows moby's patternmatcher: Go filepath.Match syntax plus `**`, the last
 * matching pattern wins, `!` re-includes, and a pattern that matches a parent folder matches
 * everything in it.
 */
import { readFileSync } from "node:fs";

interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, continuations joined. */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

export interface Stage {
  /** The image after global ARGs are substituted. */
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly path: string;
  /** Global ARGs (before the first FROM) with their defaults. */
  readonly args: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
  readonly all: readonly Instruction[];
}

export function readDockerfile(path: string): Dockerfile {
  return parseDockerfile(readFileSync(path, "utf8"), path);
}

export function parseDockerfile(text: string, path = "Dockerfile"): Dockerfile {
  const all: Instruction[] = [];
  let pending: { keyword: string; parts: string[]; line: number } | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    // Comment lines are dropped, even inside a continuation.
    if (/^\s*#/.test(line)) return;
    if (pending === undefined) {
      if (line.trim() === "") return;
      const match = /^\s*(\S+)\s*(.*)$/.exec(line);
      if (match === null) return;
      pending = { keyword: match[1]!.toUpperCase(), parts: [], line: index + 1 };
      const rest = match[2]!;
      if (rest.endsWith("\\")) {
        pending.parts.push(rest.slice(0, -1).trim());
        return;
      }
      pending.parts.push(rest.trim());
    } else {
      if (line.trim() === "") return;
      if (line.endsWith("\\")) {
        pending.parts.push(line.slice(0, -1).trim());
        return;
      }
      pending.parts.push(line.trim());
    }
    all.push({
      keyword: pending.keyword,
      args: pending.parts.filter(Boolean).join(" "),
      line: pending.line,
    });
    pending = undefined;
  });
  if (pending !== undefined) throw new Error(`${path}: the file ends inside a continuation`);

  const args = new Map<string, string>();
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of all) {
    if (instruction.keyword === "FROM") {
      const [image, as, name] = instruction.args.split(/\s+/);
      if (image === undefined) throw new Error(`${path}:${instruction.line}: FROM without image`);
      const from = image.replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_match, braced?: string, bare?: string) => {
          const value = args.get((braced ?? bare)!);
          if (value === undefined)
            throw new Error(`${path}:${instruction.line}: unknown ARG in FROM`);
          return value;
        },
      );
      stages.push({ from, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== "ARG") {
        throw new Error(`${path}:${instruction.line}: only ARG may precede the first FROM`);
      }
      const [key, ...value] = instruction.args.split("=");
      args.set(
        key!.trim(),
        value
          .join("=")
          .trim()
          .replace(/^"(.*)"$/, "$1"),
      );
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { path, args, stages, all };
}

/** `["node", "dist/main.js"]` -> the list; shell form -> undefined. */
export function execForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) {
    throw new Error(`not a JSON string list: ${args}`);
  }
  return parsed;
}

interface CopyInstruction {
  readonly from: string | undefined;
  readonly chown: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

export function parseCopy(args: string): CopyInstruction {
  const words = args.split(/\s+/).filter(Boolean);
  const flags = new Map<string, string>();
  while (words[0]?.startsWith("--")) {
    const [flag, value] = words.shift()!.slice(2).split("=");
    flags.set(flag!, value ?? "true");
  }
  const destination = words.pop();
  if (destination === undefined || words.length === 0) throw new Error(`COPY ${args}: no source`);
  return { from: flags.get("from"), chown: flags.get("chown"), sources: words, destination };
}

/** `ENV A=1 B="two"` (and the legacy `ENV A 1`) -> entries. */
export function parseEnv(args: string): [string, string][] {
  if (!args.includes("=")) {
    const [key, ...value] = args.split(/\s+/);
    return [[key!, value.join(" ")]];
  }
  return [...args.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g)].map((match) => [
    match[1]!,
    match[2] ?? match[3] ?? "",
  ]);
}

interface IgnorePattern {
  readonly exclusion: boolean;
  readonly regex: RegExp;
  readonly text: string;
}

const SPECIAL = new Set([".", "+", "(", ")", "|", "{", "}", "$", "^"]);

function patternRegex(pattern: string): RegExp {
  let source = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") i++;
        source += i + 1 >= pattern.length ? ".*" : "(.*/)?";
      } else {
        source += "[^/]*";
      }
    } else if (ch === "?") source += "[^/]";
    else if (ch === "\\" && i + 1 < pattern.length) source += `\\${pattern[++i]!}`;
    else if (SPECIAL.has(ch)) source += `\\${ch}`;
    else source += ch; // [ranges] pass through as in Go's filepath.Match
  }
  return new RegExp(`${source}$`);
}

/** Go's filepath.Clean for the forward-slash, relative paths of a .dockerignore. */
function clean(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/") || ".";
}

export interface DockerIgnore {
  /** True when `path` (relative to the context, forward slashes) is left out of the context. */
  excludes(path: string): boolean;
}

export function parseDockerIgnore(text: string): DockerIgnore {
  const patterns: IgnorePattern[] = [];
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const exclusion = line.startsWith("!");
    if (exclusion) line = line.slice(1).trim();
    line = clean(line.replace(/^\/+/, ""));
    patterns.push({ exclusion, regex: patternRegex(line), text: raw });
  }
  return {
    excludes(path) {
      const file = clean(path);
      const parents = file.split("/").slice(0, -1);
      let matched = false;
      for (const pattern of patterns) {
        // An exclusion can only flip a match, an inclusion only a non-match.
        if (pattern.exclusion !== matched) continue;
        let match = pattern.regex.test(file);
        for (let i = 1; !match && i <= parents.length; i++) {
          match = pattern.regex.test(parents.slice(0, i).join("/"));
        }
        if (match) matched = !pattern.exclusion;
      }
      return matched;
    },
  };
}
