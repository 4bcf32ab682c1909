import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isAppError } from "@cts/shared";
import { parseDuration, parseInstant } from "./duration.js";
import { expandKey, placeCase } from "./fixtures.js";
import { parseRule, RULES_DIR } from "./loader.js";
import { planProblems } from "./plan.js";

const GOOD = readFileSync(join(RULES_DIR, "mass-deletion.yaml"), "utf8");

function rejection(text: string, file = "mass-deletion.yaml"): string {
  try {
    parseRule(text, file);
  } catch (error) {
    assert.ok(isAppError(error) && error.code === "CONFIG_INVALID", String(error));
    return error.message;
  }
  assert.fail("the rule was accepted");
}

describe("rule files", () => {
  test("a shipped rule parses, with its parameter defaults", () => {
    const rule = parseRule(GOOD, "mass-deletion.yaml");
    assert.equal(rule.id, "mass-deletion");
    assert.deepEqual(rule.parameters, { threshold: 10, windowMinutes: 10 });
  });

  test("schema problems name the file and the field", () => {
    const message = rejection(GOOD.replace("severity: high", "severity: urgent"));
    assert.match(message, /^mass-deletion\.yaml: severity: /);
    assert.match(rejection(GOOD.replace(/technique: "T1485/, 'technique: "1485')), /technique/);
    assert.match(rejection("id: [unclosed"), /not valid YAML/);
  });

  test("the id must match the file name", () => {
    assert.match(rejection(GOOD, "other-name.yaml"), /differs from the file name/);
  });

  test("the query must return key and summary and use exactly the declared parameters", () => {
    assert.match(rejection(GOOD.replace(" AS key,", " AS id,")), /`key` column/);
    assert.match(rejection(GOOD.replace("$threshold", "$limit")), /\$limit, which parameters/);
    assert.match(
      rejection(GOOD.replace("  threshold: 10\n", "  threshold: 10\n  unused: 1\n")),
      /unused is declared but not used/,
    );
    assert.match(rejection(GOOD.replaceAll("datetime($until)", "datetime()")), /\$until/);
  });
});

describe("durations and instants", () => {
  test("durations in s, m, h, d and w, signed", () => {
    assert.equal(parseDuration("24h"), 86_400_000);
    assert.equal(parseDuration("-3d"), -259_200_000);
    assert.equal(parseDuration("+90s"), 90_000);
    assert.equal(parseDuration("1w"), 604_800_000);
    for (const bad of ["", "h", "1y", "1.5h", "24 h"]) assert.equal(parseDuration(bad), undefined);
  });

  test("an instant is a duration before now or an ISO date or instant", () => {
    const now = Date.parse("2026-12-04T12:00:00Z");
    assert.equal(parseInstant("24h", now), Date.parse("2026-12-03T12:00:00Z"));
    assert.equal(parseInstant("2026-12-01", now), Date.parse("2026-12-01T00:00:00Z"));
    assert.equal(
      parseInstant("2026-12-01T08:00:00+01:00", now),
      Date.parse("2026-12-01T07:00:00Z"),
    );
    for (const bad of ["yesterday", "-2h", "2026-13-01", "2026-12-01T08:00"]) {
      assert.equal(parseInstant(bad, now), undefined, bad);
    }
  });
});

describe("fixture placement", () => {
  const since = Date.parse("2025-02-03T00:00:00Z");

  test("offsets become epoch milliseconds; defaults fill rating, type and record time", () => {
    const placed = placeCase(
      "r",
      { name: "case", expect: ["{date}|x"], traces: [{ trace_id: "t1", time: "+10h" }] },
      since,
    );
    assert.deepEqual(placed.traces[0], {
      trace_id: "t1",
      trace_rating: "normal",
      trace_type: "ApiCall",
      time: since + 36_000_000,
      record_time: since + 36_000_000,
    });
    assert.deepEqual(placed.expect, ["2025-02-03|x"]);
    assert.equal(placed.until.toISOString(), "2025-02-04T00:00:00.000Z");
  });

  test("key templates: dates and DateTimes relative to the window start", () => {
    assert.equal(expandKey("a|{date+5d}", since, "t"), "a|2025-02-08");
    assert.equal(expandKey("{time+10h}", since, "t"), "2025-02-03T10:00:00Z");
    assert.equal(expandKey("{time+90s}", since, "t"), "2025-02-03T00:01:30Z");
  });

  test("a trace outside the case's slot is refused", () => {
    assert.throws(
      () =>
        placeCase("r", { name: "c", expect: [], traces: [{ trace_id: "t", time: "-40d" }] }, since),
      /outside the case's slot/,
    );
  });
});

describe("plan check", () => {
  const node = (operatorType: string, details: string, children: unknown[] = []) => ({
    operatorType,
    arguments: { Details: details },
    children: children as never[],
  });

  test("AllNodesScan and scans over Action are problems; seeks and other labels are not", () => {
    const plan = node("ProduceResults@neo4j", "key", [
      node("NodeByLabelScan@neo4j", "a:Action"),
      node("AllNodesScan@neo4j", "n"),
      node("NodeIndexSeekByRange@neo4j", "RANGE INDEX a:Action(time) WHERE time >= $since"),
      node("NodeByLabelScan@neo4j", "u:User"),
    ]);
    assert.deepEqual(planProblems(plan), ["NodeByLabelScan (a:Action)", "AllNodesScan (n)"]);
  });
});
