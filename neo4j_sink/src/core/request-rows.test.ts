import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { batchMessage, CtsTrace, traceToCloudEvent } from "@cts/shared";
import { requestToGraphRows } from "./request-rows.js";

const origin = {
  source: "https://cts.eu-de.otc.t-systems.com/v3/p1",
  region: "eu-de",
  projectId: "p1",
  domainId: "d1",
};
const event = (id: string) => {
  const raw = { trace_id: id, time: 1700000000000, service_type: "ECS", resource_id: "srv" };
  return traceToCloudEvent(CtsTrace.parse(raw), raw, { origin });
};

describe("request to graph rows", () => {
  test("turns a batch request into one row per event, ready for buildWriteBatch", () => {
    const parsed = requestToGraphRows(batchMessage([event("a"), event("b")]), {
      maxTextChars: 100,
    });
    assert.equal(parsed.mode, "batch");
    assert.deepEqual(
      parsed.rows.map((row) => [row.id, row.projectId, row.regionId, row.resourceKey]),
      [
        ["a", "p1", "eu-de", "ECS//srv"],
        ["b", "p1", "eu-de", "ECS//srv"],
      ],
    );
  });

  test("a mode the caller already detected is used as given", () => {
    const message = batchMessage([event("a")]);
    assert.throws(
      () => requestToGraphRows({ ...message, mode: "structured" }, { maxTextChars: 100 }),
      { code: "CE_INVALID" },
    );
  });
});
