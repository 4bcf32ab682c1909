/** The part of a Neo4j plan (ResultSummary.plan) the check reads. */
interface PlanNode {
  readonly operatorType: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly children: readonly PlanNode[];
}

/**
 * What makes a plan too expensive for a growing audit graph: scanning all nodes, or every
 * Action (by label, or by an index scan without a predicate). Returns one line per problem.
 */
export function planProblems(plan: PlanNode): string[] {
  const problems: string[] = [];
  const visit = (node: PlanNode) => {
    const operator = node.operatorType.replace(/@.*$/, "");
    const details = typeof node.arguments["Details"] === "string" ? node.arguments["Details"] : "";
    if (operator === "AllNodesScan") problems.push(`AllNodesScan (${details})`);
    const onAction = /:Action\b/.test(details);
    if (onAction && /^(NodeByLabelScan|NodeIndexScan|UnionNodeByLabelsScan)$/.test(operator)) {
      problems.push(`${operator} (${details})`);
    }
    node.children.forEach(visit);
  };
  visit(plan);
  return problems;
}
