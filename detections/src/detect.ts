import type { Driver } from "neo4j-driver";
import type { RuleOutcome } from "./report.js";
import { runRule, type RunWindow } from "./runner.js";
import type { Rule } from "./schema.js";

interface DetectOptions {
  readonly window: RunWindow;
  /** Overrides; each rule gets those it declares. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly database?: string;
  /** Called after each rule, e.g. for a progress line. */
  readonly onRule?: (outcome: RuleOutcome, index: number) => void;
}

/** Picks `ids` out of `rules` (all when empty); an unknown id is reported, not skipped. */
export function selectRules(
  rules: readonly Rule[],
  ids: readonly string[],
): { selected: Rule[]; unknown: string[] } {
  if (ids.length === 0) return { selected: [...rules], unknown: [] };
  const unknown = ids.filter((id) => !rules.some((rule) => rule.id === id));
  return { selected: rules.filter((rule) => ids.includes(rule.id)), unknown };
}

/** Parameter names no rule in `rules` declares. */
export function undeclaredParameters(
  rules: readonly Rule[],
  parameters: Readonly<Record<string, unknown>>,
): string[] {
  return Object.keys(parameters).filter((name) => !rules.some((rule) => name in rule.parameters));
}

/** Runs `rules` one after the other (they are read queries; one at a time spares the server). */
export async function runDetections(
  driver: Driver,
  rules: readonly Rule[],
  options: DetectOptions,
): Promise<RuleOutcome[]> {
  const outcomes: RuleOutcome[] = [];
  for (const [index, rule] of rules.entries()) {
    const own = Object.fromEntries(
      Object.entries(options.parameters ?? {}).filter(([name]) => name in rule.parameters),
    );
    const started = performance.now();
    const findings = await runRule(driver, rule, {
      window: options.window,
      parameters: own,
      ...(options.database === undefined ? {} : { database: options.database }),
    });
    const outcome = {
      rule: rule.id,
      severity: rule.severity,
      title: rule.title,
      findings,
      ms: performance.now() - started,
    };
    outcomes.push(outcome);
    options.onRule?.(outcome, index);
  }
  return outcomes;
}
