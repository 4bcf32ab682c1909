import type { Finding } from "./runner.js";
import { SEVERITIES, type Severity } from "./schema.js";

/** One rule's outcome in a run. */
export interface RuleOutcome {
  readonly rule: string;
  readonly severity: Severity;
  readonly title: string;
  readonly findings: readonly Finding[];
  readonly ms: number;
}

/** A plain-text table: columns padded to their widest cell, cells cut at `maxWidth`. */
function textTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidth = 80,
): string {
  const cut = (cell: string) => (cell.length > maxWidth ? `${cell.slice(0, maxWidth - 1)}…` : cell);
  const all = [header, ...rows].map((row) => row.map((cell) => cut(cell.replace(/\s+/g, " "))));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    line(all[0] ?? []),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...all.slice(1).map(line),
  ].join("\n");
}

const bySeverity = (a: Severity, b: Severity) => SEVERITIES.indexOf(b) - SEVERITIES.indexOf(a);

/** The progress line of one rule, for stderr. */
export function progressLine(index: number, total: number, outcome: RuleOutcome): string {
  const width = String(total).length;
  const count = outcome.findings.length;
  const found = count === 0 ? "nothing" : `${count} finding${count === 1 ? "" : "s"}`;
  return `[${String(index).padStart(width)}/${total}] ${outcome.rule.padEnd(40)} ${found} (${Math.round(outcome.ms)} ms)`;
}

/** The table report: every finding, most severe first, then a summary per rule with findings. */
export function tableReport(outcomes: readonly RuleOutcome[]): string {
  const findings = outcomes
    .flatMap((o) => o.findings)
    .sort((a, b) => bySeverity(a.severity, b.severity) || a.rule.localeCompare(b.rule));
  const total = findings.length;
  if (total === 0) return `No findings from ${outcomes.length} rules.`;
  const timeOf = (f: Finding) => (typeof f.row["time"] === "string" ? f.row["time"] : "");
  const details = textTable(
    ["severity", "rule", "time", "summary", "key"],
    findings.map((f) => [f.severity, f.rule, timeOf(f), f.summary, f.key]),
  );
  return `${details}\n\n${summaryReport(outcomes)}`;
}

/** The summary: counts by severity, then one line per rule that found something. */
export function summaryReport(outcomes: readonly RuleOutcome[]): string {
  const findings = outcomes.flatMap((o) => o.findings);
  const total = findings.length;
  if (total === 0) return `No findings from ${outcomes.length} rules.`;
  const table = textTable(
    ["severity", "rule", "findings", "title"],
    outcomes
      .filter((o) => o.findings.length > 0)
      .sort((a, b) => bySeverity(a.severity, b.severity) || a.rule.localeCompare(b.rule))
      .map((o) => [o.severity, o.rule, String(o.findings.length), o.title]),
  );
  const counts = SEVERITIES.slice()
    .reverse()
    .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  return `Summary: ${total} finding${total === 1 ? "" : "s"} from ${outcomes.length} rules (${counts})\n\n${table}`;
}

/** The JSON report: the window and every finding. */
export function jsonReport(
  outcomes: readonly RuleOutcome[],
  window: { since: Date; until: Date },
): string {
  return JSON.stringify(
    {
      since: window.since.toISOString(),
      until: window.until.toISOString(),
      rules: outcomes.map((o) => ({
        rule: o.rule,
        severity: o.severity,
        findings: o.findings.length,
      })),
      findings: outcomes.flatMap((o) => o.findings),
    },
    null,
    2,
  );
}
