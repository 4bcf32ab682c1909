import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { batchMessage, binaryMessage, structuredMessage } from "@cts/shared";
import { sinkForSuite } from "../src/testing.js";
import { count, eventFor, graphCounts, origin, PROJECT_ID, rawTrace, send } from "./helpers.js";

describe("neo4j_sink writes the graph of docs/graph-model.md (real Neo4j)", () => {
  const ctx = sinkForSuite({ maxTextChars: 64 });

  test("creates one uniqueness constraint per label key plus the rating and time indexes", async () => {
    const result = await ctx.neo.driver.executeQuery(
      "SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties " +
        "WHERE type = 'UNIQUENESS' RETURN labelsOrTypes[0] + '.' + properties[0] AS key ORDER BY key",
    );
    assert.deepEqual(
      result.records.map((r) => r.get("key") as string),
      [
        "Action.id",
        "Domain.id",
        "IpAddress.address",
        "Project.id",
        "Region.id",
        "Resource.key",
        "User.id",
      ],
    );
    const indexes = await ctx.neo.driver.executeQuery(
      "SHOW INDEXES YIELD labelsOrTypes, properties, state WHERE labelsOrTypes = ['Action'] " +
        "RETURN properties[0] AS property, state ORDER BY property",
    );
    const online = indexes.records.map(
      (r) => `${r.get("property") as string}:${r.get("state") as string}`,
    );
    for (const expected of ["id:ONLINE", "name:ONLINE", "rating:ONLINE", "time:ONLINE"]) {
      assert.ok(online.includes(expected), `${expected} in ${online.join(", ")}`);
    }
  });

  test("binary mode: every Action property and all seven relationships", async () => {
    const raw = rawTrace({
      trace_id: "bin-1",
      trace_rating: "incident",
      request: { servers: [{ id: "srv-1", note: "x".repeat(100) }] },
      message: "deleted",
      resource_name: 'Prüfserver 東京 "α"',
    });
    const answer = await send(ctx.sink.url, binaryMessage(eventFor(raw)));
    assert.equal(answer.status, 202, answer.body);
    assert.equal(answer.body, "");

    const result = await ctx.neo.driver.executeQuery(
      `MATCH (a:Action {id: 'bin-1'})
       RETURN properties(a) AS props, a.time.epochMillis AS time, a.recordTime.epochMillis AS recordTime,
              valueType(a.time) AS timeType`,
    );
    const record = result.records[0]!;
    const props = record.get("props") as Record<string, unknown>;
    assert.equal(record.get("timeType"), "ZONED DATETIME NOT NULL");
    assert.equal(Number(record.get("time")), 1700000000123);
    assert.equal(Number(record.get("recordTime")), 1700000060000);
    const { time: _time, recordTime: _recordTime, request, ...rest } = props;
    assert.deepEqual(rest, {
      id: "bin-1",
      name: "deleteServer",
      traceType: "ApiCall",
      rating: "incident",
      code: "200",
      service: "ECS",
      resourceType: "ecs",
      sourceIp: "192.0.2.10",
      apiVersion: "v2.1",
      requestId: "req-1",
      message: "deleted",
      response: '{"job_id":"j1"}',
      truncated: true,
      eventType: "ecs.apicall.ecs.deleteserver",
      eventSource: origin.source,
    });
    assert.equal(typeof request, "string");
    assert.equal((request as string).length, 64, "request is cut to SINK_MAX_TEXT_CHARS");
    assert.ok(JSON.stringify(raw["request"]).startsWith(request as string));

    const links = await ctx.neo.driver.executeQuery(
      `MATCH (a:Action {id: 'bin-1'})
       MATCH (a)-[:PERFORMED_BY]->(u:User)-[:BELONGS_TO]->(d:Domain)
       MATCH (a)-[:APPLIED_ON]->(r:Resource)-[:MEMBER_OF]->(p:Project)
       MATCH (a)-[:FROM_IP]->(ip:IpAddress)
       MATCH (a)-[:IN_PROJECT]->(p)-[:LOCATED_AT]->(g:Region)
       RETURN u {.*} AS user, d {.*} AS domain, r {.*} AS resource, p {.*} AS project,
              ip {.*} AS ip, g {.*} AS region`,
    );
    assert.equal(links.records.length, 1);
    const row = links.records[0]!.toObject() as Record<string, unknown>;
    assert.deepEqual(row, {
      user: { id: "u1", name: "alice" },
      domain: { id: "dom-1", name: "OTC-EU-DE-00000000001" },
      resource: {
        key: "ECS/ecs/srv-1",
        id: "srv-1",
        name: 'Prüfserver 東京 "α"',
        type: "ecs",
        service: "ECS",
      },
      project: { id: PROJECT_ID },
      ip: { address: "192.0.2.10" },
      region: { id: "eu-de" },
    });
  });

  test("structured mode: a system action without user or IP, resource known by name only", async () => {
    const raw = rawTrace({
      trace_id: "str-1",
      trace_type: "SystemAction",
      trace_name: "autoScale",
      user: null,
      source_ip: null,
      resource_id: null,
      resource_name: "asg-7",
      resource_type: "scaling_group",
      service_type: "AS",
      code: "201",
      record_time: null,
    });
    const answer = await send(ctx.sink.url, structuredMessage(eventFor(raw)));
    assert.equal(answer.status, 202, answer.body);
    const result = await ctx.neo.driver.executeQuery(
      `MATCH (a:Action {id: 'str-1'})
       OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u)
       OPTIONAL MATCH (a)-[:FROM_IP]->(ip)
       MATCH (a)-[:APPLIED_ON]->(r:Resource)-[:MEMBER_OF]->(:Project {id: $project})
       MATCH (a)-[:IN_PROJECT]->(:Project {id: $project})-[:LOCATED_AT]->(:Region {id: 'eu-de'})
       RETURN u, ip, r {.*} AS resource, a.code AS code, a.recordTime AS recordTime`,
      { project: PROJECT_ID },
    );
    const record = result.records[0]!;
    assert.equal(record.get("u"), null);
    assert.equal(record.get("ip"), null);
    assert.equal(record.get("code"), "201");
    assert.equal(record.get("recordTime"), null);
    assert.deepEqual(record.get("resource"), {
      key: "AS/scaling_group/asg-7",
      name: "asg-7",
      type: "scaling_group",
      service: "AS",
    });
  });

  test("batch mode: several events in one request, a v1 user without id keyed by domain/name", async () => {
    const events = [
      eventFor(rawTrace({ trace_id: "bat-1", trace_name: "login", service_type: "IAM" })),
      eventFor(
        rawTrace({
          trace_id: "bat-2",
          user: JSON.stringify({
            name: "bob",
            domain: { id: "dom-1", name: "OTC-EU-DE-00000000001" },
          }),
          source_ip: "198.51.100.7",
        }),
      ),
      eventFor(rawTrace({ trace_id: "bat-3", resource_id: "srv-2", resource_name: "web-02" }), {
        ...origin,
        region: "eu-nl",
        projectId: "p-nl",
        source: "https://cts.eu-nl.otc.t-systems.com/v3/p-nl",
      }),
    ];
    const answer = await send(ctx.sink.url, batchMessage(events));
    assert.equal(answer.status, 202, answer.body);
    assert.equal(
      await count(
        ctx.neo.driver,
        "MATCH (a:Action) WHERE a.id STARTS WITH 'bat-' RETURN count(a) AS n",
      ),
      3,
    );
    const bob = await ctx.neo.driver.executeQuery(
      `MATCH (:Action {id: 'bat-2'})-[:PERFORMED_BY]->(u:User)-[:BELONGS_TO]->(d:Domain)
       RETURN u.id AS id, u.name AS name, d.id AS domain`,
    );
    assert.deepEqual(bob.records[0]!.toObject(), {
      id: "OTC-EU-DE-00000000001/bob",
      name: "bob",
      domain: "dom-1",
    });
    const nl = await ctx.neo.driver.executeQuery(
      `MATCH (:Action {id: 'bat-3'})-[:IN_PROJECT]->(p:Project)-[:LOCATED_AT]->(g:Region)
       RETURN p.id AS project, g.id AS region`,
    );
    assert.deepEqual(nl.records[0]!.toObject(), { project: "p-nl", region: "eu-nl" });
  });

  test("the same event three times, then ten times concurrently, leaves one Action and equal counts", async () => {
    const message = binaryMessage(eventFor(rawTrace({ trace_id: "dup-1" })));
    assert.equal((await send(ctx.sink.url, message)).status, 202);
    const before = await graphCounts(ctx.neo.driver);
    for (let i = 0; i < 2; i++) assert.equal((await send(ctx.sink.url, message)).status, 202);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => send(ctx.sink.url, message)),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array.from({ length: 10 }, () => 202),
    );
    const structured = await send(
      ctx.sink.url,
      structuredMessage(eventFor(rawTrace({ trace_id: "dup-1" }))),
    );
    assert.equal(structured.status, 202);
    assert.deepEqual(await graphCounts(ctx.neo.driver), before);
    assert.equal(
      await count(ctx.neo.driver, "MATCH (a:Action {id: 'dup-1'}) RETURN count(a) AS n"),
      1,
    );
    assert.equal(
      await count(ctx.neo.driver, "MATCH (:Action {id: 'dup-1'})-[r]->() RETURN count(r) AS n"),
      4,
      "PERFORMED_BY, APPLIED_ON, FROM_IP, IN_PROJECT once each",
    );
  });

  test("users without id named alike in two accounts stay two users (fallback keys never collide)", async () => {
    // Account dom-a is named "dom-b", which is also account dom-b's id.
    const events = [
      eventFor(
        rawTrace({
          trace_id: "ukey-1",
          user: { name: "bob", domain: { id: "dom-a", name: "dom-b" } },
        }),
      ),
      eventFor(rawTrace({ trace_id: "ukey-2", user: { name: "bob", domain: { id: "dom-b" } } })),
      eventFor(rawTrace({ trace_id: "ukey-3", user: { name: "bob" } }), {
        ...origin,
        domainId: undefined,
      }),
    ];
    const answer = await send(ctx.sink.url, batchMessage(events));
    assert.equal(answer.status, 202, answer.body);
    const users = await ctx.neo.driver.executeQuery(
      `MATCH (a:Action)-[:PERFORMED_BY]->(u:User) WHERE a.id STARTS WITH 'ukey-'
       OPTIONAL MATCH (u)-[:BELONGS_TO]->(d:Domain)
       RETURN a.id AS action, u.id AS user, collect(d.id) AS domains ORDER BY action`,
    );
    assert.deepEqual(
      users.records.map((r) => r.toObject()),
      [
        { action: "ukey-1", user: "dom-b/bob", domains: ["dom-a"] },
        { action: "ukey-2", user: "id:dom-b/bob", domains: ["dom-b"] },
        { action: "ukey-3", user: "(unknown domain)/bob", domains: [] },
      ],
    );
  });

  test("a redelivery with the same id but other content keeps the first write and is counted", async () => {
    const conflicts = async () => {
      const text = await (await fetch(`${ctx.sink.url}/metrics`)).text();
      const line = /^neo4j_sink_event_conflicts_total (\d+)/m.exec(text);
      return line === null ? Number.NaN : Number(line[1]);
    };
    const start = await conflicts();
    assert.equal(start, 0, "the conflict counter is exported from the start");
    const first = rawTrace({ trace_id: "conf-1", trace_name: "deleteServer" });
    assert.equal((await send(ctx.sink.url, binaryMessage(eventFor(first)))).status, 202);
    const stored = await graphCounts(ctx.neo.driver);
    // Identical redelivery, in another mode: a plain 202, nothing counted, nothing changed.
    const again = await send(ctx.sink.url, structuredMessage(eventFor(first)));
    assert.equal(again.status, 202);
    assert.equal(again.body, "");
    assert.equal(await conflicts(), 0);
    const changed = rawTrace({
      trace_id: "conf-1",
      trace_name: "rebootServer",
      code: 500,
      user: { id: "u-other", name: "mallory", domain: { id: "dom-9", name: "OTHER" } },
      resource_id: "srv-other",
      source_ip: "203.0.113.99",
    });
    assert.equal((await send(ctx.sink.url, binaryMessage(eventFor(changed)))).status, 202);
    assert.equal(await conflicts(), 1);
    // The same conflict inside one batch request counts once more, and still is a 202.
    const inBatch = rawTrace({ trace_id: "conf-2", trace_name: "first" });
    const otherInBatch = rawTrace({ trace_id: "conf-2", trace_name: "second" });
    const batch = await send(
      ctx.sink.url,
      batchMessage([eventFor(inBatch), eventFor(otherInBatch), eventFor(inBatch)]),
    );
    assert.equal(batch.status, 202);
    assert.equal(await conflicts(), 2);
    const actions = await ctx.neo.driver.executeQuery(
      `MATCH (a:Action) WHERE a.id IN ['conf-1', 'conf-2']
       OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u:User)
       OPTIONAL MATCH (a)-[:FROM_IP]->(i:IpAddress)
       RETURN a.id AS id, a.name AS name, a.code AS code, u.id AS user, i.address AS ip
       ORDER BY id`,
    );
    assert.deepEqual(
      actions.records.map((r) => r.toObject()),
      [
        { id: "conf-1", name: "deleteServer", code: "200", user: "u1", ip: "192.0.2.10" },
        { id: "conf-2", name: "first", code: "200", user: "u1", ip: "192.0.2.10" },
      ],
    );
    const after = await graphCounts(ctx.neo.driver);
    assert.equal(after["User"], stored["User"], "the conflicting event's user was not created");
    assert.equal(after["IpAddress"], stored["IpAddress"]);
    assert.equal(after["Resource"], stored["Resource"]);
    assert.equal(after["Domain"], stored["Domain"]);
  });

  test("a batch that repeats an event stores it once", async () => {
    const event = eventFor(rawTrace({ trace_id: "dup-batch" }));
    const answer = await send(ctx.sink.url, batchMessage([event, event, event]));
    assert.equal(answer.status, 202);
    assert.equal(
      await count(ctx.neo.driver, "MATCH (a:Action {id: 'dup-batch'}) RETURN count(a) AS n"),
      1,
    );
  });

  test("1,000 events over 20 concurrent connections are all acknowledged and all present", async () => {
    const messages = Array.from({ length: 1000 }, (_, i) =>
      binaryMessage(
        eventFor(
          rawTrace({
            trace_id: `load-${i}`,
            user: { id: `u${i % 13}`, name: `user${i % 13}`, domain: { id: "dom-1" } },
            resource_id: `srv-${i % 97}`,
            source_ip: `10.0.0.${i % 50}`,
          }),
        ),
      ),
    );
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < messages.length) {
          const message = messages[next++]!;
          statuses.push((await send(ctx.sink.url, message)).status);
        }
      }),
    );
    assert.equal(statuses.length, 1000);
    assert.ok(
      statuses.every((status) => status === 202),
      `statuses: ${[...new Set(statuses)].join(",")}`,
    );
    assert.equal(
      await count(
        ctx.neo.driver,
        "MATCH (a:Action) WHERE a.id STARTS WITH 'load-' RETURN count(a) AS n",
      ),
      1000,
    );
    assert.equal(
      await count(
        ctx.neo.driver,
        "MATCH (a:Action)-[:PERFORMED_BY]->(u:User) WHERE a.id STARTS WITH 'load-' RETURN count(DISTINCT u) AS n",
      ),
      13,
    );
    const metrics = await (await fetch(`${ctx.sink.url}/metrics`)).text();
    const batches = /^neo4j_sink_batch_size_events_count (\d+)/m.exec(metrics);
    assert.ok(
      batches !== null && Number(batches[1]) < 1000,
      "concurrent requests share transactions",
    );
  });
});
