import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CtsTrace, RESERVED_NAMES, traceToCloudEvent } from "@cts/shared";
import { parseCeOverrides } from "./overrides.js";
import { classifyStatus } from "./delivery-policy.js";

describe("K_CE_OVERRIDES", () => {
  test("empty, missing, {} and an empty extensions object mean no overrides", () => {
    for (const raw of [undefined, "", "  ", "{}", '{"extensions":{}}', '{"extensions":null}']) {
      assert.deepEqual(parseCeOverrides(raw), {});
    }
  });
  test("extensions become strings", () => {
    assert.deepEqual(parseCeOverrides('{"extensions":{"team":"sec","priority":42,"audit":true}}'), {
      team: "sec",
      priority: "42",
      audit: "true",
    });
  });
  test("invalid JSON, bad names, spec attributes and nested values are configuration errors", () => {
    for (const [raw, pattern] of [
      ["{not json", /not valid JSON/],
      ["[1]", /not a JSON object/],
      ['{"extensions":"x"}', /not an object/],
      ['{"extensions":{"Bad-Name":"x"}}', /invalid extension name "Bad-Name"/],
      ['{"extensions":{"type":"x"}}', /reserved attribute "type"/],
      ['{"extensions":{"nested":{"a":1}}}', /non-scalar value/],
    ] as const) {
      assert.throws(
        () => parseCeOverrides(raw),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, "CONFIG_INVALID");
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
  });
});

describe("K_CE_OVERRIDES reserved names", () => {
  const origin = {
    source: "https://cts.example/v3/p1",
    region: "eu-de",
    projectId: "p1",
    domainId: "d1",
  };
  const raw = { trace_id: "t1", trace_name: "login", time: 1_700_000_000_000 };

  test("every CloudEvents 1.0 and 0.3 attribute is refused at start", () => {
    for (const name of [
      "specversion",
      "id",
      "source",
      "type",
      "datacontenttype",
      "dataschema",
      "subject",
      "time",
      "schemaurl",
      "datacontentencoding",
      "data",
    ]) {
      assert.throws(
        () => parseCeOverrides(JSON.stringify({ extensions: { [name]: "x" } })),
        /reserved attribute/,
        name,
      );
    }
  });

  test("a name that passes at start never fails an event; one that would fail is refused", () => {
    const candidates = [...RESERVED_NAMES, "team", "extensions", "region", "tojson", "x1"];
    for (const name of candidates) {
      const raw_ = JSON.stringify({ extensions: { [name]: "v" } });
      let overrides: Readonly<Record<string, string>>;
      try {
        overrides = parseCeOverrides(raw_);
      } catch {
        continue;
      }
      assert.doesNotThrow(
        () => traceToCloudEvent(CtsTrace.parse(raw), raw, { origin, overrides }),
        `K_CE_OVERRIDES with "${name}" is accepted, so every event must still build`,
      );
    }
  });
});

describe("Knative retry table", () => {
  test("2xx delivered; 404, 408, 409, 429 and 5xx retried; only 400 rejects the event; every other status is refused", () => {
    for (const status of [200, 201, 202, 204]) assert.equal(classifyStatus(status), "delivered");
    for (const status of [404, 408, 409, 429, 500, 502, 503, 504])
      assert.equal(classifyStatus(status), "retry");
    assert.equal(classifyStatus(400), "rejected");
    for (const status of [301, 401, 403, 405, 413, 415, 422, 431, 451])
      assert.equal(classifyStatus(status), "refused");
  });
});
