import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CtsTrace } from "@cts/shared";
import type { ReceivedEvent } from "./received-event.js";
import { eventToGraphRow, truncateText, UNKNOWN } from "./graph-rows.js";

const SOURCE = "https://cts.eu-de.otc.t-systems.com/v3/p1";

function received(
  trace: Record<string, unknown>,
  extra: Partial<ReceivedEvent> = {},
): ReceivedEvent {
  return {
    id: String(trace["trace_id"]),
    source: SOURCE,
    type: "ecs.apicall.ecs.deleteserver",
    time: undefined,
    subject: undefined,
    extensions: { tenant: "p1", region: "eu-de", domain: "ext-dom" },
    trace: CtsTrace.parse({ trace_id: "t", time: 1700000000000, ...trace }),
    ...extra,
  };
}

const options = { maxTextChars: 10 };

describe("event to graph row (docs/graph-model.md)", () => {
  test("maps the trace fields, timestamps as RFC 3339 UTC and the code as text", () => {
    const row = eventToGraphRow(
      received({
        trace_id: "t1",
        trace_name: "deleteServer",
        trace_type: "ApiCall",
        trace_rating: "warning",
        code: 404,
        time: 1700000000123,
        record_time: "1700000060000",
        service_type: "ECS",
        resource_type: "ecs",
        resource_id: "srv-1",
        resource_name: "web",
        source_ip: "192.0.2.1",
        api_version: "v2",
        request_id: "r1",
        user: { id: "u1", name: "alice", domain: { id: "d1", name: "DOM" } },
      }),
      options,
    );
    assert.deepEqual(row, {
      id: "t1",
      name: "deleteServer",
      traceType: "ApiCall",
      rating: "warning",
      code: "404",
      time: "2023-11-14T22:13:20.123Z",
      recordTime: "2023-11-14T22:14:20.000Z",
      service: "ECS",
      resourceType: "ecs",
      sourceIp: "192.0.2.1",
      apiVersion: "v2",
      requestId: "r1",
      message: null,
      request: null,
      response: null,
      truncated: false,
      eventType: "ecs.apicall.ecs.deleteserver",
      eventSource: SOURCE,
      traceparent: null,
      tracestate: null,
      userId: "u1",
      userName: "alice",
      domainId: "d1",
      domainName: "DOM",
      resourceKey: "ECS/ecs/srv-1",
      resourceId: "srv-1",
      resourceName: "web",
      projectId: "p1",
      regionId: "eu-de",
    });
  });

  test("a user without id is keyed <domain name>/<user name>; the domain falls back to the extension", () => {
    const named = eventToGraphRow(
      received({ user: { name: "bob", domain: { name: "DOM" } } }),
      options,
    );
    assert.equal(named.userId, "DOM/bob");
    assert.equal(named.domainId, "ext-dom");
    const none = eventToGraphRow(received({ user: null }), options);
    assert.deepEqual([none.userId, none.domainId], [null, null]);
  });

  test("fallback User keys never collide across domains (name, id only, neither)", () => {
    const key = (user: Record<string, unknown>, extensions = { domain: "ext-dom" }) =>
      eventToGraphRow(
        received({ user }, { extensions: { tenant: "p1", region: "eu-de", ...extensions } }),
        options,
      );
    // Account A is named like account B's id: the two bobs must stay two users.
    const byName = key({ name: "bob", domain: { id: "dom-a", name: "dom-b" } });
    const byId = key({ name: "bob", domain: { id: "dom-b" } });
    assert.equal(byName.userId, "dom-b/bob");
    assert.equal(byId.userId, "id:dom-b/bob");
    assert.equal(byId.domainId, "dom-b");
    // No domain in the trace: the polled account (extension) is not the user's own, so the key
    // does not use it; the BELONGS_TO link still does.
    const bare = key({ name: "eve" });
    assert.equal(bare.userId, "(unknown domain)/eve");
    assert.equal(bare.domainId, "ext-dom");
    const ownAccount = key({ name: "eve", domain: { name: "ext-dom" } });
    assert.notEqual(bare.userId, ownAccount.userId);
    const nothing = key({ name: "eve" }, { domain: "" });
    assert.equal(nothing.userId, "(unknown domain)/eve");
    assert.equal(nothing.domainId, null);
    // Before: "" domain gave "/eve", "ext-dom/eve" clashed with a domain named "ext-dom".
    const keys = new Set([byName, byId, bare, ownAccount].map((row) => row.userId));
    assert.equal(keys.size, 4);
    // A user id is taken as it is, whatever the domain says.
    assert.equal(key({ id: "u-9", name: "bob", domain: { name: "dom-b" } }).userId, "u-9");
  });

  test("the resource key uses the name when there is no id; no id and no name means no resource", () => {
    assert.equal(
      eventToGraphRow(
        received({ service_type: "AS", resource_type: "group", resource_name: "g" }),
        options,
      ).resourceKey,
      "AS/group/g",
    );
    assert.equal(
      eventToGraphRow(received({ resource_name: " ", resource_id: "" }), options).resourceKey,
      null,
    );
  });

  test("request, response and message become strings cut to the bound, with truncated set", () => {
    const row = eventToGraphRow(
      received({ request: { a: "0123456789" }, response: "short", message: "0123456789abc" }),
      options,
    );
    assert.equal(row.request, '{"a":"0123');
    assert.equal(row.response, "short");
    assert.equal(row.message, "0123456789");
    assert.equal(row.truncated, true);
  });

  test("project and region come from the extensions, else from the CTS source URL, else unknown", () => {
    const fromSource = eventToGraphRow(received({}, { extensions: {} }), options);
    assert.deepEqual([fromSource.projectId, fromSource.regionId], ["p1", "eu-de"]);
    const unknown = eventToGraphRow(received({}, { extensions: {}, source: "urn:x" }), options);
    assert.deepEqual([unknown.projectId, unknown.regionId], [UNKNOWN, UNKNOWN]);
  });

  test("truncation never splits a surrogate pair and never exceeds the bound", () => {
    assert.deepEqual(truncateText("ab😀", 3), { text: "ab", truncated: true });
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.integer({ min: 1, max: 40 }), (text, max) => {
        const cut = truncateText(text, max);
        const last = cut.text.charCodeAt(cut.text.length - 1);
        const endsInHighSurrogate = last >= 0xd800 && last <= 0xdbff;
        return (
          cut.text.length <= max &&
          text.startsWith(cut.text) &&
          cut.truncated === text.length > max &&
          (!cut.truncated || !endsInHighSurrogate)
        );
      }),
    );
  });
});
