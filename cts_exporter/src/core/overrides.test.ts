import assert from "node:assert/strict";
import { describe, test } from "node:test";
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
      ['{"extensions":{"type":"x"}}', /spec attribute "type"/],
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

describe("Knative retry table", () => {
  test("2xx delivered; 404, 408, 409, 429 and 5xx retried; other statuses rejected", () => {
    for (const status of [200, 201, 202, 204]) assert.equal(classifyStatus(status), "delivered");
    for (const status of [404, 408, 409, 429, 500, 502, 503, 504])
      assert.equal(classifyStatus(status), "retry");
    for (const status of [301, 400, 401, 403, 413, 415, 422])
      assert.equal(classifyStatus(status), "rejected");
  });
});
