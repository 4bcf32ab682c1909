import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { AppError, ErrorCode, type Env } from "@cts/shared";
import { load, YAMLException } from "js-yaml";
import { CloudsDocument, describeIssues } from "./clouds-schema.js";

/** Where to look, overridable so tests never read the developer's own files. */
export interface SearchRoots {
  readonly cwd?: string;
  readonly home?: string;
  /** The system directory, `/etc/openstack` by default. */
  readonly etc?: string;
}

type Kind = "clouds" | "secure";

const EXPLICIT: Record<Kind, string> = {
  clouds: "OS_CLIENT_CONFIG_FILE",
  secure: "OS_CLIENT_SECURE_FILE",
};

/**
 * The candidate paths in search order (docs/otc-api-notes.md section 7.2, the order the original exporter used):
 * the current directory, `~/.config/openstack`, `/etc/openstack`, each with `.yaml`, `.yml`,
 * `.json`.
 */
export function searchPaths(kind: Kind, roots: SearchRoots = {}): string[] {
  const directories = [
    roots.cwd ?? process.cwd(),
    join(roots.home ?? homedir(), ".config", "openstack"),
    roots.etc ?? "/etc/openstack",
  ];
  return directories.flatMap((directory) =>
    ["yaml", "yml", "json"].map((suffix) => join(directory, `${kind}.${suffix}`)),
  );
}

/** A parsed clouds.yaml or secure.yaml. */
interface FoundDocument {
  readonly path: string;
  readonly document: CloudsDocument;
}

/**
 * Finds and parses the first clouds (or secure) file. An explicit OS_CLIENT_CONFIG_FILE /
 * OS_CLIENT_SECURE_FILE that does not exist is an error rather than silently skipped: the
 * operator asked for that file. Returns `undefined` (with the paths searched) when none exists.
 */
export function findDocument(
  kind: Kind,
  env: Env,
  roots: SearchRoots,
): { found: FoundDocument | undefined; searched: string[] } {
  const explicit = env[EXPLICIT[kind]]?.trim();
  if (explicit !== undefined && explicit !== "") {
    const path = resolve(roots.cwd ?? process.cwd(), explicit);
    if (!isFile(path)) {
      throw new AppError(
        ErrorCode.CONFIG_INVALID,
        `${EXPLICIT[kind]} points to "${path}", which is not a readable file; fix the path or unset the variable`,
      );
    }
    return { found: readDocument(path), searched: [path] };
  }
  const searched = searchPaths(kind, roots);
  const path = searched.find(isFile);
  return { found: path === undefined ? undefined : readDocument(path), searched };
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/**
 * Reads and parses one file as YAML (JSON is YAML too). Syntax errors report the line and column
 * but never js-yaml's source snippet, which would print the neighbouring lines: passwords.
 */
/**
 * js-yaml's reason without the text it quotes: an unquoted password that starts with `!` or `*`
 * is read as a tag or an alias, and the reason would print it ("unknown tag !<!secret>").
 */
function yamlReason(reason: string): string {
  if (/\b(tag|alias|anchor)\b/i.test(reason)) {
    return "a value starts with ! or * or & and was read as a YAML tag, alias or anchor; put such values in quotes";
  }
  return reason.replace(/"[^"]*"|'[^']*'|<[^>]*>/g, "(…)");
}

function readDocument(path: string): FoundDocument {
  const fail = (problem: string) =>
    new AppError(ErrorCode.CONFIG_INVALID, `"${path}": ${problem}`, { details: { file: path } });
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw fail(
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"}); check its permissions`,
    );
  }
  if (text.trim() === "") throw fail("is empty; it needs a top-level clouds: mapping");
  let parsed: unknown;
  try {
    parsed = load(text);
  } catch (error) {
    if (error instanceof YAMLException) {
      const where =
        error.mark === undefined
          ? ""
          : ` at line ${error.mark.line + 1}, column ${error.mark.column + 1}`;
      throw fail(
        `is not valid YAML${where}: ${yamlReason(error.reason)}; check quotes and indentation there`,
      );
    }
    throw fail("is not valid YAML");
  }
  const result = CloudsDocument.safeParse(parsed);
  if (!result.success) throw fail(describeIssues(result.error));
  return { path, document: result.data };
}

/**
 * Merges secure.yaml over clouds.yaml the openstacksdk way: per cloud, recursively, secure.yaml
 * wins, and clouds only in secure.yaml are added.
 */
export function mergeSecure(
  clouds: Readonly<Record<string, unknown>>,
  secure: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return deepMerge(clouds, secure);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepMerge(
  base: Readonly<Record<string, unknown>>,
  over: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = merged[key];
    merged[key] = isMapping(current) && isMapping(value) ? deepMerge(current, value) : value;
  }
  return merged;
}
