import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { CtsTrace } from "@cts/shared";
import { neo4jForSuite } from "@cts/devkit";
import {
  actionsOf,
  buildWriteBatch,
  READ_QUERIES,
  createGraphStore,
  eventToGraphRow,
  writeStatements,
  type ReceivedEvent,
} from "../src/index.js";
import { WARM_UP_BATCH } from "../src/core/warm-up-batch.js";
import { connectionTo, origin, rawTrace } from "./helpers.js";

interface PlanNode {
  readonly operatorType: string;
  readonly arguments: Record<string, unknown>;
  readonly children: readonly PlanNode[];
}

function operators(plan: PlanNode): { type: string; details: string }[] {
  const type = plan.operatorType.replace(/@.*$/, "");
  const raw = plan.arguments["Details"];
  const details = typeof raw === "string" ? raw : "";
  return [{ type, details }, ...plan.children.flatMap(operators)];
}

function rows(from: number, to: number) {
  return Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    const trace = CtsTrace.parse(
      rawTrace({
        trace_id: `plan-${i}`,
        user: { id: `u${i % 7}`, name: `user${i % 7}`, domain: { id: `d${i % 2}`, name: "DOM" } },
        resource_id: `srv-${i % 31}`,
        source_ip: `10.1.0.${i % 17}`,
      }),
    );
    const event: ReceivedEvent = {
      id: trace.trace_id,
      source: origin.source,
      type: "ecs.apicall.ecs.deleteserver",
      time: undefined,
      subject: undefined,
      extensions: { tenant: origin.projectId, region: origin.region },
      trace,
    };
    return eventToGraphRow(event, { maxTextChars: 1024 });
  });
}

describe("the write query plan (PROFILE on the real Neo4j)", () => {
  const ctx = neo4jForSuite();
  before(async () => {
    const config = connectionTo(ctx.neo);
    const store = createGraphStore(ctx.neo.driver, config);
    await store.ensureSchema();
    await store.write(rows(0, 300));
  });

  test("every statement uses unique-index seeks only: no Eager, no label or full scans", async () => {
    const writes = writeStatements(buildWriteBatch(rows(300, 350)));
    assert.equal(writes.length, 11);
    const stored = rows(0, 50);
    const statements = [
      { text: READ_QUERIES.storedActions, parameters: { ids: stored.map((row) => row.id) } },
      { text: READ_QUERIES.sameActions, parameters: { rows: actionsOf(stored) } },
      ...writes,
    ];
    const session = ctx.neo.driver.session();
    try {
      const seeks: string[] = [];
      await session.executeWrite(async (tx) => {
        for (const statement of statements) {
          const result = await tx.run(`PROFILE ${statement.text}`, statement.parameters);
          const profile = result.summary.profile as unknown as PlanNode | false;
          assert.ok(profile !== false, "PROFILE returned a plan");
          const ops = operators(profile);
          const types = ops.map((op) => op.type);
          assert.ok(!types.includes("Eager"), `Eager in:\n${statement.text}\n${types.join(", ")}`);
          for (const scan of [
            "NodeByLabelScan",
            "AllNodesScan",
            "NodeIndexScan",
            "DirectedRelationshipTypeScan",
            "UndirectedRelationshipTypeScan",
          ]) {
            assert.ok(!types.includes(scan), `${scan} in:\n${statement.text}`);
          }
          const statementSeeks = ops.filter((op) => op.type.startsWith("NodeUniqueIndexSeek"));
          assert.ok(statementSeeks.length > 0, `no unique index seek in:\n${statement.text}`);
          seeks.push(
            ...statementSeeks.map((op) =>
              op.details.replace(/^UNIQUE \w+:/, "").replace(/ WHERE.*/, ""),
            ),
          );
        }
      });
      for (const key of [
        "Action(id)",
        "User(id)",
        "Domain(id)",
        "Resource(key)",
        "Project(id)",
        "Region(id)",
        "IpAddress(address)",
      ]) {
        assert.ok(
          seeks.includes(key),
          `${key} is looked up by its unique index (seen: ${[...new Set(seeks)].join(", ")})`,
        );
      }
    } finally {
      await session.close();
    }
  });

  test("the start plans every statement with real rows but commits none of them", async () => {
    const config = connectionTo(ctx.neo);
    await createGraphStore(ctx.neo.driver, config).ensureSchema();
    const marks = [WARM_UP_BATCH.actions[0]?.id, WARM_UP_BATCH.projects[0]];
    const result = await ctx.neo.driver.executeQuery(
      `MATCH (n) WHERE n.id IN $marks OR n.key IN $marks OR n.address IN $ips
       RETURN count(n) AS n`,
      { marks, ips: WARM_UP_BATCH.ips },
    );
    assert.equal(Number(result.records[0]?.get("n")), 0);
    assert.equal(writeStatements(WARM_UP_BATCH).length, 11, "every statement is warmed");
  });
});
