import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import type { z } from "zod";
import { AppError, ErrorCode } from "@cts/shared";
import { FixtureFile, Rule, WINDOW_PARAMETERS } from "./schema.js";

/** Where the rule files live (next to src/ and dist/, so both find them). */
export const RULES_DIR = fileURLToPath(new URL("../rules/", import.meta.url));
/** Where the fixture files live: one `<rule id>.json` per rule. */
const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/", import.meta.url));

function invalid(file: string, problem: string): AppError {
  return new AppError(
    ErrorCode.CONFIG_INVALID,
    `${file}: ${problem}. Fix the file (the format is described in detections/README.md).`,
    { details: { file } },
  );
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(top)"}: ${issue.message}`)
    .join("; ");
}

/** `$name` parameters a Cypher text refers to (string literals and comments included: harmless). */
function referencedParameters(cypher: string): Set<string> {
  return new Set([...cypher.matchAll(/\$([A-Za-z][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ""));
}

/**
 * Checks what the schema cannot: the id matches the file name, the query returns `key` and
 * `summary`, and its parameters are exactly $since, $until and the declared ones.
 */
function checkRule(rule: Rule, file: string): void {
  if (basename(file, ".yaml") !== rule.id) {
    throw invalid(file, `id "${rule.id}" differs from the file name`);
  }
  for (const column of ["key", "summary"]) {
    if (!new RegExp(`\\bAS ${column}\\b`).test(rule.query)) {
      throw invalid(file, `query does not return a \`${column}\` column`);
    }
  }
  const used = referencedParameters(rule.query);
  for (const name of WINDOW_PARAMETERS) {
    if (!used.has(name)) throw invalid(file, `query does not use $${name}`);
  }
  for (const name of used) {
    if (!(WINDOW_PARAMETERS as readonly string[]).includes(name) && !(name in rule.parameters)) {
      throw invalid(file, `query uses $${name}, which parameters does not declare`);
    }
  }
  for (const name of Object.keys(rule.parameters)) {
    if (!used.has(name)) throw invalid(file, `parameter ${name} is declared but not used`);
  }
}

/** Parses and checks one rule file's text; `file` names it in errors. */
export function parseRule(text: string, file: string): Rule {
  let document: unknown;
  try {
    document = load(text);
  } catch (error) {
    throw invalid(file, `not valid YAML (${(error as Error).message.split("\n")[0] ?? ""})`);
  }
  const parsed = Rule.safeParse(document);
  if (!parsed.success) throw invalid(file, describeIssues(parsed.error));
  checkRule(parsed.data, file);
  return parsed.data;
}

const filesIn = (dir: string, extension: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith(extension))
    .sort()
    .map((name) => join(dir, name));

/** Every rule in `dir`, sorted by id; throws an AppError naming the first bad file. */
export function loadRules(dir = RULES_DIR): Rule[] {
  const rules = filesIn(dir, ".yaml").map((file) => parseRule(readFileSync(file, "utf8"), file));
  return rules.sort((a, b) => a.id.localeCompare(b.id));
}

/** Every fixture file in `dir`, checked against its schema. */
export function loadFixtures(dir = FIXTURES_DIR): FixtureFile[] {
  return filesIn(dir, ".json").map((file) => {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw invalid(file, `not valid JSON (${(error as Error).message})`);
    }
    const parsed = FixtureFile.safeParse(document);
    if (!parsed.success) throw invalid(file, describeIssues(parsed.error));
    if (basename(file, ".json") !== parsed.data.rule) {
      throw invalid(file, `rule "${parsed.data.rule}" differs from the file name`);
    }
    return parsed.data;
  });
}
