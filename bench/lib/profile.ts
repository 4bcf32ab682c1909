import neo4j, { type Driver } from "neo4j-driver";

/** A statement to PROFILE, with the parameters it runs with. */
interface ProfiledStatement {
  readonly text: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface ProfileSummary {
  /** Database hits of all statements together: Neo4j's own unit of work. */
  readonly dbHits: number;
  /** Operators that hint at a problem if present: label scans and Eager. */
  readonly warnings: string[];
  /** The operators with the most database hits, with Neo4j's description of each. */
  readonly top: { readonly operator: string; readonly details: string; readonly dbHits: number }[];
}

interface PlanNode {
  readonly operatorType: string;
  readonly dbHits: number;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly children: readonly PlanNode[];
}

const TOP = 3;

function walk(plan: PlanNode, visit: (node: PlanNode) => void): void {
  visit(plan);
  for (const child of plan.children) walk(child, visit);
}

/**
 * Runs the statements with PROFILE in one write transaction (they do write) and sums the
 * database hits, so the report can show per-event cost as the graph grows, independent of
 * CPU contention on a shared machine.
 */
export async function profileStatements(
  driver: Driver,
  statements: readonly ProfiledStatement[],
): Promise<ProfileSummary> {
  const session = driver.session({ defaultAccessMode: neo4j.session.WRITE });
  let dbHits = 0;
  const warnings = new Set<string>();
  const operators: ProfileSummary["top"] = [];
  try {
    await session.executeWrite(async (tx) => {
      for (const statement of statements) {
        const result = await tx.run(`PROFILE ${statement.text}`, statement.parameters);
        const plan = result.summary.profile;
        if (plan === false) continue;
        walk(plan, (node) => {
          dbHits += node.dbHits;
          const operator = node.operatorType.split("@")[0] ?? node.operatorType;
          if (/LabelScan|AllNodesScan|Eager/.test(operator)) warnings.add(operator);
          const details = node.arguments["Details"];
          operators.push({
            operator,
            details: typeof details === "string" ? details.slice(0, 120) : "",
            dbHits: node.dbHits,
          });
        });
      }
    });
  } finally {
    await session.close();
  }
  const top = operators.sort((a, b) => b.dbHits - a.dbHits).slice(0, TOP);
  return { dbHits, warnings: [...warnings].sort(), top };
}
