import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HTTP } from "cloudevents";
import fc from "fast-check";
import { CtsTrace } from "../cts/trace.js";
import { decodeHeaderValue, encodeHeaderValue } from "./http/header-value.js";
import { binaryMessage, structuredMessage } from "./http/encode.js";
import { eventType, traceEventAttributes } from "./trace-attributes.js";
import { traceToCloudEvent } from "./to-cloudevent.js";

const origin = {
  source: "https://cts.eu-de.otc.t-systems.com/v3/0391e4486e864c26be5654c522f440f2",
  region: "eu-de",
  projectId: "0391e4486e864c26be5654c522f440f2",
  domainId: "d0000000000000000000000000000001",
};

const rawLogin = {
  trace_id: "e001ccb9-bc09-11e6-b00b-4b2a61338db6",
  trace_name: "login",
  trace_rating: "normal",
  trace_type: "ConsoleAction",
  request: null,
  response: { code: "200" },
  code: 200,
  api_version: "3.0",
  message: null,
  record_time: 1700000060000,
  time: 1700000000123,
  user: { id: "u1", name: "alice", domain: { id: "dom-1", name: "OTC00000000001000000001" } },
  service_type: "IAM",
  resource_type: "user",
  resource_name: "alice",
  resource_id: "u1",
  source_ip: "192.0.2.10",
  request_id: "req-1",
  vendor_field: { kept: true },
};

describe("trace to CloudEvent mapping (docs/event-contract.md section 1)", () => {
  test("maps every attribute and extension", () => {
    const trace = CtsTrace.parse(rawLogin);
    const event = traceToCloudEvent(trace, rawLogin, { origin });
    assert.equal(event.specversion, "1.0");
    assert.equal(event.id, rawLogin.trace_id);
    assert.equal(event.source, origin.source);
    assert.equal(event.type, "iam.consoleaction.user.login");
    assert.equal(event.subject, "alice");
    assert.equal(event.time, "2023-11-14T22:13:20.123Z");
    assert.equal(event.datacontenttype, "application/json");
    assert.deepEqual(event.data, rawLogin, "data is the trace exactly as CTS returned it");
    assert.equal(event["status"], "normal");
    assert.equal(event["code"], "200");
    assert.equal(event["resourceid"], "u1");
    assert.equal(event["region"], "eu-de");
    assert.equal(event["domain"], origin.domainId);
    assert.equal(event["tenant"], origin.projectId);
  });

  test("domain is the polled account's id, never the acting user's domain (agency, switched role)", () => {
    const raw = {
      ...rawLogin,
      user: { id: "u9", name: "auditor", domain: { id: "other-account", name: "OTC-OTHER" } },
    };
    const event = traceToCloudEvent(CtsTrace.parse(raw), raw, { origin });
    assert.equal(event["domain"], origin.domainId);
    assert.deepEqual(event.data, raw, "the user's own domain stays in data");
    const unknown = traceEventAttributes(CtsTrace.parse(raw), { ...origin, domainId: undefined });
    assert.equal(unknown.extensions["domain"], undefined, "left out rather than the user's");
  });

  test("drops empty type parts, falls back to resource_id, and to the origin's domain", () => {
    const raw = {
      trace_id: "t2",
      trace_name: "deleteServer",
      trace_type: "SystemAction",
      service_type: "ECS",
      resource_type: "",
      resource_name: " ",
      resource_id: "srv-9",
      time: 1,
      user: null,
    };
    const trace = CtsTrace.parse(raw);
    const attributes = traceEventAttributes(trace, origin);
    assert.equal(attributes.type, "ecs.systemaction.deleteserver");
    assert.equal(attributes.subject, "srv-9");
    assert.equal(attributes.extensions["domain"], origin.domainId);
    assert.equal(attributes.extensions["code"], undefined, "a null code is left out");
  });

  test("K_CE_OVERRIDES extensions are applied last", () => {
    const trace = CtsTrace.parse(rawLogin);
    const event = traceToCloudEvent(trace, rawLogin, {
      origin,
      overrides: { region: "override", team: "sec" },
    });
    assert.equal(event["region"], "override");
    assert.equal(event["team"], "sec");
  });

  test("an invalid extension name is rejected by the cloudevents validation", () => {
    const trace = CtsTrace.parse(rawLogin);
    assert.throws(() =>
      traceToCloudEvent(trace, rawLogin, { origin, overrides: { "Bad-Name": "x" } }),
    );
  });

  test("eventType lower-cases and joins only non-empty parts", () => {
    assert.equal(eventType(CtsTrace.parse({ trace_id: "x", time: 0 })), "cts.trace");
  });
});

describe("tolerant trace parsing (docs/otc-api-notes.md section 6)", () => {
  test("accepts code as number or string and request/response as string, object or null", () => {
    for (const code of [200, "200", null, undefined]) {
      for (const response of ['{"a":1}', { a: 1 }, null]) {
        assert.ok(CtsTrace.safeParse({ trace_id: "t", time: 1, code, response }).success);
      }
    }
  });
  test("decodes a v1 JSON-string user and keeps unknown fields", () => {
    const trace = CtsTrace.parse({
      trace_id: "t",
      time: "1700000000000",
      user: '{"name":"bob","domain":{"id":"d"}}',
      extra: 1,
    });
    assert.equal(trace.user?.name, "bob");
    assert.equal(trace.time, 1700000000000);
    assert.equal((trace as Record<string, unknown>)["extra"], 1);
  });
  test("rejects a trace without id or time", () => {
    assert.equal(CtsTrace.safeParse({ time: 1 }).success, false);
    assert.equal(CtsTrace.safeParse({ trace_id: "t" }).success, false);
    assert.equal(CtsTrace.safeParse({ trace_id: "t", time: "yesterday" }).success, false);
  });
});

describe("binary-mode header encoding", () => {
  test("percent-encodes space, quote, percent and non-ASCII; round-trips", () => {
    const subject = 'Prüfserver 東京 "α" 100%';
    const encoded = encodeHeaderValue(subject);
    assert.match(encoded, /^[\x21-\x7e]+$/);
    assert.ok(!encoded.includes(" ") && !encoded.includes('"'));
    assert.equal(decodeHeaderValue(encoded), subject);
    assert.equal(encodeHeaderValue("plain-ascii.value"), "plain-ascii.value");
  });

  test("decodes raw UTF-8 that Node's parser handed over as latin-1", () => {
    const latin1View = Buffer.from("Prüfserver 東京", "utf8").toString("latin1");
    assert.equal(decodeHeaderValue(latin1View), "Prüfserver 東京");
  });

  test("rejects percent-encoded bytes that are not UTF-8", () => {
    assert.throws(() => decodeHeaderValue("%FF%FE"), /not valid UTF-8/);
  });

  test("any string survives encode then decode", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme" }),
        (text) => decodeHeaderValue(encodeHeaderValue(text)) === text,
      ),
    );
  });

  test("binary and structured messages carry the event; the SDK reads them back", () => {
    const raw = { ...rawLogin, resource_name: 'Prüfserver 東京 "α"' };
    const event = traceToCloudEvent(CtsTrace.parse(raw), raw, { origin });
    const binary = binaryMessage(event);
    assert.equal(binary.headers["ce-id"], raw.trace_id);
    assert.equal(binary.headers["content-type"], "application/json; charset=utf-8");
    assert.equal(decodeHeaderValue(binary.headers["ce-subject"] ?? ""), raw.resource_name);
    assert.deepEqual(JSON.parse(binary.body), raw);
    assert.equal(binary.headers["ce-data"], undefined);

    const structured = structuredMessage(event);
    const parsed = HTTP.toEvent({ headers: structured.headers, body: structured.body });
    assert.ok(!Array.isArray(parsed));
    assert.equal(parsed.subject, raw.resource_name);
    assert.deepEqual(parsed.data, raw);
    assert.equal(parsed["tenant"], origin.projectId);
  });
});

describe("header and data edge cases of the event contract", () => {
  test("a header value starting with U+FEFF keeps it", () => {
    assert.equal(decodeHeaderValue(encodeHeaderValue("\ufeffp-bom")), "\ufeffp-bom");
    assert.equal(
      decodeHeaderValue(Buffer.from("\ufeffraw", "utf8").toString("latin1")),
      "\ufeffraw",
    );
  });
  test('an own "__proto__" key in request survives parsing as the same object', () => {
    const request = JSON.parse('{"__proto__":"x","servers":[1]}') as unknown;
    const trace = CtsTrace.parse({ trace_id: "p", time: 1, request });
    assert.equal(trace.request, request);
    assert.equal(JSON.stringify(trace.request), '{"__proto__":"x","servers":[1]}');
  });
});
