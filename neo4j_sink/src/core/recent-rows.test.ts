import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRecentRows } from "./recent-rows.js";
import type { WriteBatch } from "./write-batch.js";

function batch(userName: string, actionId: string): WriteBatch {
  return {
    projects: ["p1"],
    regions: ["eu-de"],
    domains: [{ id: "d1", name: "DOM" }],
    users: [{ id: "u1", name: userName }],
    resources: [{ key: "ECS/server/s1", id: "s1", name: "web", type: "server", service: "ECS" }],
    ips: ["192.0.2.1"],
    actions: [{ id: actionId } as WriteBatch["actions"][number]],
    locations: [{ projectId: "p1", regionId: "eu-de" }],
    userDomains: [{ id: "u1", domainId: "d1" }],
    memberships: [{ key: "ECS/server/s1", projectId: "p1" }],
    actionLinks: [
      { id: actionId, projectId: "p1", userId: "u1", resourceKey: null, ipAddress: null },
    ],
  };
}

const shared = (b: WriteBatch) =>
  [
    b.projects,
    b.regions,
    b.domains,
    b.users,
    b.resources,
    b.ips,
    b.locations,
    b.userDomains,
    b.memberships,
  ].map((list) => list.length);

describe("recently committed shared rows", () => {
  test("leaves out rows committed within the TTL, never actions, and writes them again after it", () => {
    const recent = createRecentRows({ ttlMs: 1_000, maxRows: 100 });
    assert.deepEqual(shared(recent.unseen(batch("alice", "a1"), 0)), [1, 1, 1, 1, 1, 1, 1, 1, 1]);
    recent.committed(batch("alice", "a1"), 0);
    const next = recent.unseen(batch("alice", "a2"), 999);
    assert.deepEqual(shared(next), [0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(
      next.actions.map((a) => a.id),
      ["a2"],
    );
    assert.deepEqual(
      next.actionLinks.map((a) => a.id),
      ["a2"],
    );
    assert.deepEqual(
      shared(recent.unseen(batch("alice", "a3"), 1_000)),
      [1, 1, 1, 1, 1, 1, 1, 1, 1],
    );
  });

  test("a row whose content changed (a new user name) is written again at once", () => {
    const recent = createRecentRows({ ttlMs: 60_000, maxRows: 100 });
    recent.committed(batch("alice", "a1"), 0);
    const next = recent.unseen(batch("alice.new", "a2"), 10);
    assert.deepEqual(next.users, [{ id: "u1", name: "alice.new" }]);
    assert.equal(next.domains.length, 0);
  });

  test("clear() forgets everything, and so does growing beyond maxRows", () => {
    const recent = createRecentRows({ ttlMs: 60_000, maxRows: 100 });
    recent.committed(batch("alice", "a1"), 0);
    recent.clear();
    assert.deepEqual(shared(recent.unseen(batch("alice", "a2"), 1)), [1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const small = createRecentRows({ ttlMs: 60_000, maxRows: 5 });
    small.committed(batch("alice", "a1"), 0);
    assert.deepEqual(shared(small.unseen(batch("alice", "a2"), 1)), [1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });
});
