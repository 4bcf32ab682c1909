import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { GraphRow } from "./graph-rows.js";
import { WARM_UP_ROW } from "./warm-up-batch.js";
import { buildWriteBatch, compareWithStored, dedupeRows } from "./write-batch.js";

/** An IAM console login by alice; `overrides` replace fields. */
function row(overrides: Partial<GraphRow>): GraphRow {
  return {
    ...WARM_UP_ROW,
    id: "a",
    name: "login",
    traceType: "ConsoleAction",
    rating: "normal",
    code: "200",
    time: "2023-11-14T22:13:20.123Z",
    recordTime: null,
    service: "IAM",
    resourceType: "user",
    sourceIp: "192.0.2.1",
    eventType: "iam.consoleaction.user.login",
    eventSource: "https://cts.eu-de.otc.t-systems.com/v3/p1",
    userId: "u1",
    userName: "alice",
    domainId: "d1",
    domainName: null,
    resourceKey: "IAM/user/u1",
    resourceId: "u1",
    resourceName: "alice",
    projectId: "p1",
    regionId: "eu-de",
    ...overrides,
  };
}

describe("write batch", () => {
  test("deduplicates actions by id and shared nodes by key, each list sorted", () => {
    const batch = buildWriteBatch([
      row({ id: "c", userId: "u2", userName: null, sourceIp: "192.0.2.9" }),
      row({ id: "a" }),
      row({ id: "c", rating: "warning" }),
      row({ id: "b", userId: "u2", userName: "bob", domainName: "DOM", sourceIp: null }),
    ]);
    assert.deepEqual(
      batch.actions.map((a) => [a.id, a.rating]),
      [
        ["a", "normal"],
        ["b", "normal"],
        ["c", "normal"],
      ],
      "the first copy of a duplicate wins",
    );
    assert.deepEqual(batch.users, [
      { id: "u1", name: "alice" },
      { id: "u2", name: "bob" },
    ]);
    assert.deepEqual(batch.userDomains, [
      { id: "u1", domainId: "d1" },
      { id: "u2", domainId: "d1" },
    ]);
    assert.deepEqual(batch.domains, [{ id: "d1", name: "DOM" }], "a later name fills a null one");
    assert.deepEqual(batch.ips, ["192.0.2.1", "192.0.2.9"]);
    assert.deepEqual(batch.projects, ["p1"]);
    assert.deepEqual(batch.regions, ["eu-de"]);
    assert.deepEqual(batch.locations, [{ projectId: "p1", regionId: "eu-de" }]);
    assert.deepEqual(
      batch.actionLinks.map((l) => l.id),
      ["a", "b", "c"],
    );
    assert.equal(batch.resources.length, 1);
    assert.deepEqual(batch.memberships, [{ key: "IAM/user/u1", projectId: "p1" }]);
  });

  test("action rows carry only the Action properties and the keys of their neighbours", () => {
    const [action] = buildWriteBatch([row({})]).actions;
    assert.deepEqual(Object.keys(action!).sort(), [
      "apiVersion",
      "code",
      "eventSource",
      "eventType",
      "id",
      "ipAddress",
      "message",
      "name",
      "projectId",
      "rating",
      "recordTime",
      "request",
      "requestId",
      "resourceKey",
      "resourceType",
      "response",
      "service",
      "sourceIp",
      "time",
      "traceType",
      "traceparent",
      "tracestate",
      "truncated",
      "userId",
    ]);
  });

  test("rows without user, resource or IP add no such nodes", () => {
    const batch = buildWriteBatch([
      row({ userId: null, domainId: null, resourceKey: null, sourceIp: null }),
    ]);
    assert.deepEqual(
      [
        batch.users,
        batch.domains,
        batch.userDomains,
        batch.resources,
        batch.memberships,
        batch.ips,
      ],
      [[], [], [], [], [], []],
    );
  });

  test("a second copy of an id with other content is a conflict; an identical copy is not", () => {
    const { rows, conflicts } = dedupeRows([
      row({ id: "a" }),
      row({ id: "a" }),
      row({ id: "b" }),
      row({ id: "a", name: "logout" }),
      row({ id: "b", userId: "u9" }),
    ]);
    assert.deepEqual(
      rows.map((r) => [r.id, r.name, r.userId]),
      [
        ["a", "login", "u1"],
        ["b", "login", "u1"],
      ],
    );
    assert.deepEqual(conflicts, ["a", "b"]);
  });

  test("rows are split into fresh, unchanged and conflicting by what Neo4j stores", () => {
    const split = compareWithStored(
      [row({ id: "new" }), row({ id: "same" }), row({ id: "other" })],
      new Map([
        ["same", true],
        ["other", false],
      ]),
    );
    assert.deepEqual(
      split.fresh.map((r) => r.id),
      ["new"],
    );
    assert.deepEqual(split.unchanged, ["same"]);
    assert.deepEqual(split.conflicts, ["other"]);
  });
});
