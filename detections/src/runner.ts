import type { Driver } from "neo4j-driver";
import type { Rule, Severity } from "./schema.js";
import { toNeo4jParameters, toPlain } from "./values.js";

/** One row a rule returned: what it found and the identity that makes it the same next time. */
export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly title: string;
  /** The rule's own key for the finding (the query's `key` column). */
  readonly key: string;
  /** Globally unique and stable: `<rule id>/<key>`. */
  readonly identity: string;
  readonly summary: string;
  /** Every column of the row, as plain JSON. */
  readonly row: Readonly<Record<string, unknown>>;
}

/** The window a run looks at: $since inclusive, $until exclusive. */
export interface RunWindow {
  readonly since: Date;
  readonly until: Date;
}

interface RunOptions {
  readonly window: RunWindow;
  /** Overrides of the rule's parameter defaults. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly database?: string;
}

/** The parameters a rule's query runs with. */
export function ruleParameters(rule: Rule, options: RunOptions): Record<string, unknown> {
  return toNeo4jParameters({
    ...rule.parameters,
    ...options.parameters,
    since: options.window.since.toISOString(),
    until: options.window.until.toISOString(),
  });
}

/** Turns one result row into a Finding; rows without a usable key are a rule bug. */
function rowToFinding(rule: Rule, row: Record<string, unknown>): Finding {
  const plain = toPlain(row) as Record<string, unknown>;
  const key = plain["key"];
  if (typeof key !== "string" || key === "") {
    throw new Error(`rule ${rule.id} returned a row without a text key: ${JSON.stringify(plain)}`);
  }
  const summary = plain["summary"];
  return {
    rule: rule.id,
    severity: rule.severity,
    title: rule.title,
    key,
    identity: `${rule.id}/${key}`,
    summary: typeof summary === "string" ? summary : JSON.stringify(summary),
    row: plain,
  };
}

/** Runs one rule in a read transaction and returns its findings, sorted by key. */
export async function runRule(driver: Driver, rule: Rule, options: RunOptions): Promise<Finding[]> {
  const result = await driver.executeQuery(rule.query, ruleParameters(rule, options), {
    routing: "READ",
    ...(options.database === undefined ? {} : { database: options.database }),
  });
  return result.records
    .map((record) => rowToFinding(rule, record.toObject()))
    .sort((a, b) => a.key.localeCompare(b.key));
}
