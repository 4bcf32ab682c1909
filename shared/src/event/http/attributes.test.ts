import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isExtensionName, NOT_CE_HEADERS, REQUIRED_HEADERS, RESERVED_NAMES } from "./attributes.js";

describe("the attribute table", () => {
  test("binary mode: required attributes mark a request, data and datacontenttype are no ce- header", () => {
    assert.deepEqual(REQUIRED_HEADERS, ["ce-specversion", "ce-id", "ce-source", "ce-type"]);
    assert.deepEqual([...NOT_CE_HEADERS].sort(), ["data", "data_base64", "datacontenttype"]);
  });

  test("extensions may not take a 1.0 or 0.3 attribute, a data member or an SDK event member", () => {
    assert.deepEqual([...RESERVED_NAMES].sort(), [
      ...["constructor", "data", "data_base64", "datacontentencoding", "datacontenttype"],
      ...["dataschema", "emit", "id", "schemaurl", "source", "specversion", "subject", "time"],
      ...["type", "validate"],
    ]);
    assert.ok(isExtensionName("tenant") && isExtensionName("schemaurl"));
    assert.ok(!isExtensionName("time") && !isExtensionName("data_base64"));
  });
});
