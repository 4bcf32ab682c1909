import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  binaryMessage,
  CtsTrace,
  decodeEvents,
  structuredMessage,
  traceToCloudEvent,
} from "@cts/shared";
import { readReceivedEvent } from "./received-event.js";

const raw = {
  trace_id: "t-1",
  trace_name: "login",
  time: 1700000000123,
  user: { id: "u1", name: "alice", domain: { id: "d1", name: "DOM" } },
  service_type: "IAM",
};
const event = traceToCloudEvent(CtsTrace.parse(raw), raw, {
  origin: { source: "https://cts.example/v3/p1", region: "eu-de", projectId: "p1", domainId: "d1" },
});

describe("a received event's data is a CTS trace", () => {
  const message = binaryMessage(event);
  const binary = (body: string) =>
    decodeEvents({ mode: "binary", headers: message.headers, body }, readReceivedEvent);

  test("the decoded event carries the parsed trace", () => {
    const parsed = binary(message.body)[0];
    assert.ok(parsed !== undefined);
    assert.equal(parsed.trace.user?.name, "alice");
    assert.equal(parsed.id, "t-1");
    const structured = structuredMessage(event);
    const fromJson = decodeEvents(
      { mode: "structured", headers: {}, body: structured.body },
      readReceivedEvent,
    );
    assert.equal(fromJson[0]?.trace.trace_id, "t-1");
  });

  test("data that is not a CTS trace is CE_DATA_INVALID, naming the event", () => {
    // An AppError's code and message, as the sink's status table reads them.
    const refused = (message: RegExp) => ({ code: "CE_DATA_INVALID", message });
    assert.throws(() => binary("[1,2]"), refused(/^id "t-1": data must be a CTS trace/));
    assert.throws(() => binary(JSON.stringify({ trace_id: "t" })), refused(/time/));
    assert.throws(() => binary(JSON.stringify({ ...raw, time: 9e15 })), refused(/out of range/));
  });
});
