import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { boundedJson } from "./bounded-json.js";

describe("boundedJson", () => {
  test("equals JSON.stringify for any JSON value when not cut", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = boundedJson(value, 1_000_000);
        return !result.truncated && result.text === JSON.stringify(value);
      }),
    );
  });

  test("a cut result is a prefix of JSON.stringify, at most maxChars long", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat({ max: 200 }), (value, max) => {
        const full = JSON.stringify(value);
        const result = boundedJson(value, max);
        return (
          result.text.length <= Math.max(max, 0) + 0 &&
          full.startsWith(result.text) &&
          result.truncated === full.length > max
        );
      }),
    );
  });

  test("keeps an own __proto__ key and handles 100,000 levels without a RangeError", () => {
    const parsed = JSON.parse('{"__proto__":1,"a":[true,null,"x"]}') as unknown;
    assert.equal(boundedJson(parsed, 100).text, '{"__proto__":1,"a":[true,null,"x"]}');
    const depth = 100_000;
    const deep = JSON.parse('{"a":'.repeat(depth) + "1" + "}".repeat(depth)) as unknown;
    assert.throws(() => JSON.stringify(deep), RangeError);
    const result = boundedJson(deep, 8192);
    assert.equal(result.truncated, true);
    assert.equal(result.text, '{"a":'.repeat(depth).slice(0, 8192));
  });
});
