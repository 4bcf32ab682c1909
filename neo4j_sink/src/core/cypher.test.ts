import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  NODE_KEYS,
  SCHEMA_STATEMENTS,
  WRITE_ORDER,
  WRITE_QUERIES,
  writeStatements,
} from "./cypher.js";
import { buildWriteBatch } from "./write-batch.js";
import type { GraphRow } from "./graph-rows.js";
import { WARM_UP_ROW } from "./warm-up-batch.js";

const hostile = "x'}) DETACH DELETE n //";

/** A row with an injection attempt in most of its strings. */
function row(id: string): GraphRow {
  return {
    ...WARM_UP_ROW,
    id,
    name: hostile,
    traceType: null,
    rating: null,
    code: null,
    time: "2023-11-14T22:13:20.123Z",
    recordTime: null,
    service: hostile,
    resourceType: hostile,
    sourceIp: hostile,
    eventType: "t",
    eventSource: "s",
    traceparent: hostile,
    tracestate: hostile,
    userId: hostile,
    userName: hostile,
    domainId: hostile,
    domainName: null,
    resourceKey: hostile,
    resourceId: null,
    resourceName: null,
    projectId: hostile,
    regionId: hostile,
  };
}

describe("Cypher", () => {
  test("one idempotent uniqueness constraint per label key, plus rating and time indexes", () => {
    for (const [label, key] of Object.entries(NODE_KEYS)) {
      assert.ok(
        SCHEMA_STATEMENTS.some(
          (s) =>
            s.includes("IF NOT EXISTS") && s.includes(`(n:${label}) REQUIRE n.${key} IS UNIQUE`),
        ),
        `${label}.${key}`,
      );
    }
    assert.ok(SCHEMA_STATEMENTS.some((s) => s.includes("(n:Action) ON (n.rating)")));
    assert.ok(SCHEMA_STATEMENTS.some((s) => s.includes("(n:Action) ON (n.time)")));
  });

  test("values only travel as parameters: statement texts are constants, whatever the data", () => {
    const statements = writeStatements(buildWriteBatch([row("a"), row("b")]));
    const texts = new Set<string>(Object.values(WRITE_QUERIES));
    assert.equal(statements.length, 11);
    for (const statement of statements) {
      assert.ok(texts.has(statement.text));
      assert.ok(!statement.text.includes(hostile));
      assert.deepEqual(Object.keys(statement.parameters), ["rows"]);
    }
  });

  test("MERGE patterns name only the key; every other property is SET", () => {
    for (const text of Object.values(WRITE_QUERIES)) {
      for (const match of text.matchAll(/MERGE \(\w*:(\w+) \{([^}]*)\}\)/g)) {
        const [, label, properties] = match;
        const key = NODE_KEYS[label as keyof typeof NODE_KEYS];
        assert.match(
          properties!,
          new RegExp(`^${key}: [\\w.]+$`),
          `${label} MERGE on ${properties}`,
        );
      }
    }
  });

  test("empty lists are left out; nodes are written before relationships", () => {
    const statements = writeStatements({
      projects: ["p"],
      regions: ["r"],
      domains: [],
      users: [],
      resources: [],
      ips: [],
      actions: [],
      locations: [{ projectId: "p", regionId: "r" }],
      userDomains: [],
      memberships: [],
      actionLinks: [],
    });
    assert.deepEqual(
      statements.map((s) => s.text),
      [WRITE_QUERIES.projects, WRITE_QUERIES.regions, WRITE_QUERIES.locations],
    );
    // Every statement that creates no relationship runs before every one that does.
    const creates = WRITE_ORDER.map((name) => /MERGE \(\w+\)-\[/.test(WRITE_QUERIES[name]));
    const firstRelationship = creates.indexOf(true);
    assert.ok(firstRelationship > 0);
    assert.ok(
      creates.slice(firstRelationship).every(Boolean),
      `nodes before relationships: ${WRITE_ORDER.join(", ")}`,
    );
  });

  test("a shared node whose properties did not change is not SET (no write lock)", () => {
    for (const name of ["domains", "users", "resources"] as const) {
      assert.match(
        WRITE_QUERIES[name],
        /FOREACH \(_ IN CASE WHEN [^]* THEN \[1\] ELSE \[\] END \|\s+SET /,
        name,
      );
      assert.doesNotMatch(WRITE_QUERIES[name], /\nSET /, name);
    }
    assert.doesNotMatch(WRITE_QUERIES.actions, /\nSET /, "an Action is only SET on create");
    assert.match(WRITE_QUERIES.actions, /ON CREATE SET/);
  });
});
