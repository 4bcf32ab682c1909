import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { batchMessage } from "@cts/shared";
import { REPO_ROOT } from "@cts/devkit";
import { sinkForSuite } from "../src/testing.js";
import { eventFor, origin, rawTrace, send } from "./helpers.js";

const QUERIES = join(REPO_ROOT, "queries");
const T0 = Date.parse("2024-05-01T00:00:00Z");
const at = (minutes: number) => T0 + minutes * 60_000;
const RANGE = { from: "2024-05-01T00:00:00Z", to: "2024-05-02T00:00:00Z" };

const alice = { id: "u-alice", name: "alice", domain: { id: "dom-1", name: "OTC-1" } };
const bob = { id: "u-bob", name: "bob", domain: { id: "dom-1", name: "OTC-1" } };
const admin = { id: "u-admin", name: "admin", domain: { id: "dom-1", name: "OTC-1" } };
const nl = {
  ...origin,
  region: "eu-nl",
  projectId: "p-nl",
  source: "https://cts.eu-nl.otc.t-systems.com/v3/p-nl",
};

/** A console login to `user`'s own IAM user that CTS rated a warning. */
const warnedLogin = (
  user: typeof alice,
  fields: { trace_id: string; trace_name: string; time: number; source_ip: string },
) => ({
  trace_rating: "warning",
  service_type: "IAM",
  resource_type: "user",
  resource_id: user.id,
  resource_name: user.name,
  trace_type: "ConsoleAction",
  user,
  ...fields,
});

/** A small, known history: every query below has rows to find and rows to leave out. */
const seed = [
  // srv-1's life: created and updated, then deleted by alice.
  {
    trace_id: "s1",
    trace_name: "createServer",
    time: at(10),
    user: alice,
    source_ip: "192.0.2.10",
  },
  {
    trace_id: "s2",
    trace_name: "updateServer",
    time: at(20),
    user: bob,
    source_ip: "198.51.100.7",
  },
  {
    trace_id: "s3",
    trace_name: "deleteServer",
    time: at(30),
    user: alice,
    source_ip: "192.0.2.10",
  },
  // A failed deletion (warning) and an incident on a volume.
  {
    trace_id: "v1",
    trace_name: "deleteVolume",
    trace_rating: "warning",
    resource_type: "volume",
    service_type: "EVS",
    resource_id: "vol-1",
    resource_name: "data",
    time: at(40),
    user: bob,
  },
  {
    trace_id: "v2",
    trace_name: "detachVolume",
    trace_rating: "incident",
    resource_type: "volume",
    service_type: "EVS",
    resource_id: "vol-1",
    resource_name: "data",
    message: "backend fault",
    time: at(41),
    user: bob,
  },
  // Failed logins: three from one IP against alice and bob, one from another IP.
  ...[1, 2].map((i) =>
    warnedLogin(alice, {
      trace_id: `lf-a${i}`,
      trace_name: "loginFailed",
      time: at(100 + i),
      source_ip: "203.0.113.5",
    }),
  ),
  warnedLogin(bob, {
    trace_id: "lf-b1",
    trace_name: "login",
    time: at(103),
    source_ip: "203.0.113.5",
  }),
  warnedLogin(bob, {
    trace_id: "lf-b2",
    trace_name: "loginFailed",
    time: at(104),
    source_ip: "203.0.113.6",
  }),
  {
    trace_id: "ok-login",
    trace_name: "login",
    service_type: "IAM",
    resource_type: "user",
    resource_id: "u-alice",
    trace_type: "ConsoleAction",
    time: at(105),
    user: alice,
    source_ip: "192.0.2.10",
  },
  // After noon: alice from a new IP and her usual one; carol's first ever actions.
  {
    trace_id: "n1",
    trace_name: "listServers",
    resource_id: null,
    resource_name: null,
    time: at(13 * 60),
    user: alice,
    source_ip: "192.0.2.99",
  },
  {
    trace_id: "n2",
    trace_name: "listServers",
    resource_id: null,
    resource_name: null,
    time: at(13 * 60 + 5),
    user: alice,
    source_ip: "192.0.2.10",
  },
  {
    trace_id: "n3",
    trace_name: "listServers",
    resource_id: null,
    resource_name: null,
    time: at(14 * 60),
    user: { id: "u-carol", name: "carol", domain: { id: "dom-1" } },
    source_ip: "198.51.100.20",
  },
  // CTS self-audit: the tracker disabled, a notification deleted; a getTrace that is no change.
  {
    trace_id: "c1",
    trace_name: "updateTracker",
    service_type: "CTS",
    resource_type: "tracker",
    resource_id: "system",
    resource_name: "system",
    request: { status: "disabled" },
    time: at(200),
    user: admin,
    source_ip: "192.0.2.50",
  },
  {
    trace_id: "c2",
    trace_name: "deleteNotification",
    service_type: "CTS",
    resource_type: "notification",
    resource_id: "n-1",
    resource_name: "alerts",
    time: at(201),
    user: admin,
    source_ip: "192.0.2.50",
  },
  {
    trace_id: "c3",
    trace_name: "getTrace",
    service_type: "CTS",
    resource_type: "trace",
    resource_id: null,
    resource_name: null,
    time: at(202),
    user: admin,
  },
  // The one action in the second project (eu-nl).
  {
    trace_id: "nl-1",
    trace_name: "createVpc",
    service_type: "VPC",
    resource_type: "vpc",
    resource_id: "vpc-1",
    resource_name: "net",
    time: at(50),
    user: bob,
    source_ip: "198.51.100.7",
  },
  // Outside the range: must not appear in ranged queries.
  {
    trace_id: "old-1",
    trace_name: "deleteServer",
    resource_id: "srv-9",
    resource_name: "old-web",
    time: T0 - 60_000,
    user: alice,
  },
];

function query(name: string): string {
  return readFileSync(join(QUERIES, name), "utf8");
}

describe("queries/ on a seeded graph (real Neo4j)", () => {
  const ctx = sinkForSuite();
  const run = async (name: string, parameters: Record<string, unknown>) => {
    const result = await ctx.neo.driver.executeQuery(query(name), parameters);
    return result.records.map((record) => {
      const row = record.toObject() as Record<string, unknown>;
      for (const [key, value] of Object.entries(row)) {
        // Temporal values compare as ISO text; integers as numbers.
        if (value !== null && typeof value === "object" && "toStandardDate" in value) {
          row[key] = (value as { toStandardDate(): Date }).toStandardDate().toISOString();
        } else if (value !== null && typeof value === "object" && "toNumber" in value) {
          row[key] = (value as { toNumber(): number }).toNumber();
        }
      }
      return row;
    });
  };

  before(async () => {
    const events = seed.map((fields) =>
      eventFor(rawTrace(fields), fields.trace_id === "nl-1" ? nl : origin),
    );
    const answer = await send(ctx.sink.url, batchMessage(events));
    assert.equal(answer.status, 202, answer.body);
  });

  test("every query file is documented and tested here", () => {
    const files = readdirSync(QUERIES)
      .filter((f) => f.endsWith(".cypher"))
      .sort();
    assert.deepEqual(files, [
      "activity-by-project-region.cypher",
      "deleted-resources.cypher",
      "failed-logins-by-ip.cypher",
      "failed-logins-by-user.cypher",
      "incident-actions.cypher",
      "new-source-ips.cypher",
      "resource-timeline.cypher",
      "tracker-changes.cypher",
      "user-activity.cypher",
    ]);
    const readme = readFileSync(join(QUERIES, "README.md"), "utf8");
    for (const file of files) {
      const text = query(file);
      assert.match(
        text,
        /^\/\/ .+\n\/\/\n\/\/ Parameters\n/,
        `${file} starts with its documentation`,
      );
      assert.match(text, /Neo4j Browser: +:params? /, `${file} shows how to set its parameters`);
      assert.ok(readme.includes(file), `README lists ${file}`);
    }
  });

  test("resource timeline: who did what, from where, by key, id or name", async () => {
    for (const resource of ["ECS/ecs/srv-1", "srv-1", "web-01"]) {
      const rows = await run("resource-timeline.cypher", { resource });
      assert.deepEqual(
        rows.map((r) => [r["action"], r["user"], r["sourceIp"]]),
        [
          ["createServer", "alice", "192.0.2.10"],
          ["updateServer", "bob", "198.51.100.7"],
          ["deleteServer", "alice", "192.0.2.10"],
        ],
        resource,
      );
    }
    const first = (await run("resource-timeline.cypher", { resource: "web-01" }))[0]!;
    assert.equal(first["time"], "2024-05-01T00:10:00.000Z");
    assert.equal(first["via"], "ApiCall");
  });

  test("user activity: everything one user did in a time range", async () => {
    const rows = await run("user-activity.cypher", { user: "alice", ...RANGE });
    assert.deepEqual(
      rows.map((r) => r["action"]),
      [
        "createServer",
        "deleteServer",
        "loginFailed",
        "loginFailed",
        "login",
        "listServers",
        "listServers",
      ],
    );
    const narrow = await run("user-activity.cypher", {
      user: "u-bob",
      from: "2024-05-01T00:15:00Z",
      to: "2024-05-01T00:45:00Z",
    });
    assert.deepEqual(
      narrow.map((r) => [r["action"], r["resource"], r["project"]]),
      [
        ["updateServer", "ECS/ecs/srv-1", origin.projectId],
        ["deleteVolume", "EVS/volume/vol-1", origin.projectId],
        ["detachVolume", "EVS/volume/vol-1", origin.projectId],
      ],
    );
  });

  test("failed logins grouped by IP and by user", async () => {
    const byIp = await run("failed-logins-by-ip.cypher", RANGE);
    assert.deepEqual(
      byIp.map((r) => [r["sourceIp"], r["failures"], r["distinctUsers"]]),
      [
        ["203.0.113.5", 3, 2],
        ["203.0.113.6", 1, 1],
      ],
    );
    assert.equal(byIp[0]?.["firstAttempt"], "2024-05-01T01:41:00.000Z");
    const byUser = await run("failed-logins-by-user.cypher", RANGE);
    assert.deepEqual(
      byUser.map((r) => [r["user"], r["failures"], [...(r["sourceIps"] as string[])].sort()]),
      [
        ["alice", 2, ["203.0.113.5"]],
        ["bob", 2, ["203.0.113.5", "203.0.113.6"]],
      ],
    );
  });

  test("deleted resources: successful deletions with who and when, in the range only", async () => {
    const rows = await run("deleted-resources.cypher", RANGE);
    assert.deepEqual(rows, [
      {
        deletedAt: "2024-05-01T03:21:00.000Z",
        service: "CTS",
        type: "notification",
        resourceId: "n-1",
        resourceName: "alerts",
        action: "deleteNotification",
        deletedBy: "admin",
        sourceIp: "192.0.2.50",
        project: origin.projectId,
      },
      {
        deletedAt: "2024-05-01T00:30:00.000Z",
        service: "ECS",
        type: "ecs",
        resourceId: "srv-1",
        resourceName: "web-01",
        action: "deleteServer",
        deletedBy: "alice",
        sourceIp: "192.0.2.10",
        project: origin.projectId,
      },
    ]);
  });

  test("incident-rated actions", async () => {
    const rows = await run("incident-actions.cypher", RANGE);
    assert.deepEqual(
      rows.map((r) => [r["action"], r["resource"], r["user"], r["message"]]),
      [["detachVolume", "EVS/volume/vol-1", "bob", "backend fault"]],
    );
  });

  test("source IPs seen for the first time per user", async () => {
    const rows = await run("new-source-ips.cypher", { since: "2024-05-01T12:00:00Z" });
    assert.deepEqual(
      rows.map((r) => [r["user"], r["sourceIp"], r["firstSeen"], r["knownUser"]]),
      [
        ["carol", "198.51.100.20", "2024-05-01T14:00:00.000Z", false],
        ["alice", "192.0.2.99", "2024-05-01T13:00:00.000Z", true],
      ],
      "alice's usual 192.0.2.10 is not new",
    );
  });

  test("activity per project and region", async () => {
    const rows = await run("activity-by-project-region.cypher", RANGE);
    assert.deepEqual(
      rows.map((r) => [
        r["region"],
        r["project"],
        r["actions"],
        r["warnings"],
        r["incidents"],
        r["users"],
      ]),
      [
        ["eu-de", origin.projectId, seed.length - 2, 5, 1, 4],
        ["eu-nl", "p-nl", 1, 0, 0, 1],
      ],
    );
  });

  test("changes to the CTS tracker and its notifications", async () => {
    const rows = await run("tracker-changes.cypher", RANGE);
    assert.deepEqual(
      rows.map((r) => [r["action"], r["target"], r["user"], r["sourceIp"]]),
      [
        ["deleteNotification", "alerts", "admin", "192.0.2.50"],
        ["updateTracker", "system", "admin", "192.0.2.50"],
      ],
    );
    assert.equal(rows[1]?.["request"], '{"status":"disabled"}');
  });
});
