import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { sinkForSuite } from "@cts/neo4j_sink/testing";
import { expectedKeys, placeAllCases, type PlacedCase } from "../src/fixtures.js";
import { loadFixtures, loadRules } from "../src/loader.js";
import { planProblems } from "../src/plan.js";
import { ruleParameters, runRule } from "../src/runner.js";
import type { Rule } from "../src/schema.js";
import { loadThroughSink } from "./support.js";

// Loaded at import time so that one test per rule can be declared below.
const rules = loadRules();
const fixtures = loadFixtures();
const cases = placeAllCases(fixtures);
const IN_FLIGHT = 8;

describe("detection rules on their fixtures (real sink, real Neo4j)", () => {
  const ctx = sinkForSuite();

  before(async () => {
    // Every case lives in its own eight-week slot, so all of them share one database and one
    // load: a rule run over one case's window sees that case and nothing else.
    await loadThroughSink(
      ctx.sink.url,
      cases.flatMap((c) => c.traces),
    );
  });

  test("at least 30 rules, each with a fixture file, and unique trace ids", () => {
    assert.ok(rules.length >= 30, `${rules.length} rules`);
    assert.deepEqual(
      fixtures.map((f) => f.rule).sort(),
      rules.map((r) => r.id),
      "one fixture file per rule, none without a rule",
    );
    for (const placed of cases) {
      for (const other of Object.keys(placed.also)) {
        assert.ok(
          rules.some((r) => r.id === other) && other !== placed.rule,
          `${placed.rule} / "${placed.name}": also names ${other}, which is no other rule`,
        );
      }
    }
    const ids = cases.flatMap((c) => c.traces.map((t) => String(t["trace_id"])));
    assert.equal(new Set(ids).size, ids.length, "trace ids are unique across all fixtures");
  });

  const run = (rule: Rule, placed: PlacedCase) =>
    runRule(ctx.neo.driver, rule, {
      window: { since: placed.since, until: placed.until },
      parameters: placed.rule === rule.id ? placed.parameters : {},
    });

  for (const rule of rules) {
    test(`${rule.id}: exactly the expected keys on its own cases, nothing on the others`, async () => {
      // A few cases at a time: the queries are small, the round trips are what takes time.
      for (let start = 0; start < cases.length; start += IN_FLIGHT) {
        const chunk = cases.slice(start, start + IN_FLIGHT);
        const results = await Promise.all(chunk.map((placed) => run(rule, placed)));
        chunk.forEach((placed, i) => {
          const findings = results[i]!;
          assert.deepEqual(
            findings.map((f) => f.key),
            expectedKeys(rule.id, placed),
            `${rule.id} on ${placed.rule} / "${placed.name}"`,
          );
          for (const finding of findings) {
            assert.ok(!/null|undefined/.test(finding.summary), `${rule.id}: ${finding.summary}`);
          }
        });
      }
    });
  }

  test("every query and visual query plans without AllNodesScan or a scan over Action", async () => {
    const window = {
      since: new Date("2026-01-01T00:00:00Z"),
      until: new Date("2026-01-02T00:00:00Z"),
    };
    const problems: string[] = [];
    for (const rule of rules) {
      for (const [which, text] of [
        ["query", rule.query],
        ["visual", rule.visual],
      ] as const) {
        const result = await ctx.neo.driver.executeQuery(
          `EXPLAIN ${text}`,
          ruleParameters(rule, { window }),
        );
        const plan = result.summary.plan;
        assert.ok(plan !== false, `${rule.id} ${which} has a plan`);
        for (const problem of planProblems(plan)) {
          problems.push(`${rule.id} ${which}: ${problem}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
