import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ErrorCode, isAppError } from "../../errors.js";
import {
  binaryEventId,
  decodeEvents,
  detectContentMode,
  invalidEvent,
  withEventId,
  type EventContext,
  type ReadEvent,
  type RequestHeaders,
} from "./decode.js";
import { batchMessage, binaryMessage, structuredMessage } from "./encode.js";
import { isRfc3339 } from "./timestamp.js";

const raw = {
  trace_id: "t-1",
  trace_name: "login",
  trace_type: "ConsoleAction",
  trace_rating: "normal",
  time: 1700000000123,
  user: { id: "u1", name: "alice", domain: { id: "d1", name: "DOM" } },
  service_type: "IAM",
  resource_type: "user",
  resource_name: 'Prüfserver 東京 "α" 100%',
  source_ip: "192.0.2.1",
};
/** An event as the exporter builds it for this trace (docs/event-contract.md section 1). */
const event = {
  specversion: "1.0",
  id: "t-1",
  source: "https://cts.eu-de.otc.t-systems.com/v3/p1",
  type: "iam.consoleaction.user.login",
  subject: raw.resource_name,
  time: "2023-11-14T22:13:20.123Z",
  datacontenttype: "application/json",
  status: "normal",
  region: "eu-de",
  domain: "d1",
  tenant: "p1",
  data: raw,
} as const;

/** A receiver that takes any JSON object as data, as the sink takes a CTS trace. */
const readObject: ReadEvent<EventContext & { data: Record<string, unknown> }> = (
  context,
  data,
  where,
) => {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw invalidEvent("data must be a JSON object", where, ErrorCode.CE_DATA_INVALID);
  }
  return { ...context, data: data as Record<string, unknown> };
};

function parse(headers: RequestHeaders, body: string) {
  return decodeEvents({ mode: detectContentMode(headers), headers, body }, readObject);
}

function rejects(run: () => unknown, code: string, pattern?: RegExp) {
  assert.throws(run, (error: unknown) => {
    assert.ok(isAppError(error), `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  });
}

describe("content mode detection", () => {
  test("media types are matched case-insensitively, parameters included", () => {
    assert.equal(
      detectContentMode({ "content-type": "application/cloudevents+json; charset=UTF-8" }),
      "structured",
    );
    assert.equal(
      detectContentMode({ "content-type": "Application/CloudEvents+JSON" }),
      "structured",
    );
    assert.equal(
      detectContentMode({ "content-type": 'APPLICATION/CLOUDEVENTS-BATCH+JSON; charset="utf-8"' }),
      "batch",
    );
    assert.equal(
      detectContentMode({ "content-type": "Application/JSON; Charset=UTF-8", "ce-id": "x" }),
      "binary",
    );
    assert.equal(detectContentMode({ "ce-specversion": "1.0" }), "binary");
  });

  test("other media types are 415; JSON without CloudEvent attributes is 400", () => {
    rejects(
      () => detectContentMode({ "content-type": "text/plain", "ce-id": "x" }),
      "UNSUPPORTED_MEDIA_TYPE",
    );
    rejects(
      () => detectContentMode({ "content-type": "application/xml" }),
      "UNSUPPORTED_MEDIA_TYPE",
    );
    rejects(
      () => detectContentMode({ "content-type": "application/cloudevents+avro" }),
      "UNSUPPORTED_MEDIA_TYPE",
    );
    rejects(
      () => detectContentMode({ "content-type": "application/cloudevents+json; charset=latin1" }),
      "UNSUPPORTED_MEDIA_TYPE",
      /charset/,
    );
    rejects(() => detectContentMode({ "content-type": "not a type" }), "UNSUPPORTED_MEDIA_TYPE");
    rejects(
      () => detectContentMode({ "content-type": "application/json" }),
      "CE_INVALID",
      /no CloudEvent/,
    );
    rejects(() => detectContentMode({}), "CE_INVALID");
  });
});

describe("binary mode", () => {
  test("reads percent-encoded attributes and the trace, keeps extensions", () => {
    const message = binaryMessage(event);
    const parsed = parse(message.headers, message.body)[0]!;
    assert.equal(parsed.id, "t-1");
    assert.equal(parsed.source, event.source);
    assert.equal(parsed.type, "iam.consoleaction.user.login");
    assert.equal(parsed.subject, raw.resource_name);
    assert.equal(parsed.time, "2023-11-14T22:13:20.123Z");
    assert.deepEqual(parsed.extensions, {
      status: "normal",
      region: "eu-de",
      domain: "d1",
      tenant: "p1",
    });
    assert.deepEqual(parsed.data, raw);
  });

  test("accepts raw UTF-8 header bytes as Node hands them over (latin-1 view)", () => {
    const message = binaryMessage(event);
    const headers = {
      ...message.headers,
      "ce-subject": Buffer.from(raw.resource_name, "utf8").toString("latin1"),
    };
    assert.equal(parse(headers, message.body)[0]?.subject, raw.resource_name);
  });

  test("a missing id, source or type, a wrong specversion or a bad time is CE_INVALID", () => {
    const message = binaryMessage(event);
    for (const name of ["ce-id", "ce-source", "ce-type", "ce-specversion"]) {
      const headers = Object.fromEntries(
        Object.entries(message.headers).filter(([key]) => key !== name),
      );
      if (name === "ce-specversion") {
        rejects(() => parse(headers, message.body), "CE_INVALID", /specversion/);
      } else {
        rejects(() => parse(headers, message.body), "CE_INVALID", new RegExp(name.slice(3)));
      }
    }
    rejects(
      () => parse({ ...message.headers, "ce-specversion": "0.3" }, message.body),
      "CE_INVALID",
      /specversion "0.3"/,
    );
    for (const time of [
      "yesterday",
      "2023-02-30T00:00:00Z",
      "2023-11-14 22:13:20Z",
      "2023-11-14T25:00:00Z",
    ]) {
      rejects(
        () => parse({ ...message.headers, "ce-time": time }, message.body),
        "CE_INVALID",
        /time/,
      );
    }
    rejects(() => parse({ ...message.headers, "ce-id": "" }, message.body), "CE_INVALID", /"id"/);
  });

  test("a repeated attribute header, bad percent-encoding or an empty body is CE_INVALID", () => {
    const message = binaryMessage(event);
    rejects(
      () => parse({ ...message.headers, "ce-id": ["a", "b"] }, message.body),
      "CE_INVALID",
      /twice|2 times/,
    );
    rejects(
      () => parse({ ...message.headers, "ce-subject": "%FF%FE" }, message.body),
      "CE_INVALID",
      /UTF-8/,
    );
    rejects(() => parse(message.headers, ""), "CE_INVALID", /empty/);
    rejects(() => parse(message.headers, "{not json"), "CE_INVALID", /not valid JSON/);
  });

  test("every rejection of a request with a valid ce-id names that event id", () => {
    const message = binaryMessage(event);
    const cases: [RequestHeaders, string][] = [
      [{ ...message.headers, "ce-subject": "%FF%FE" }, message.body],
      [{ ...message.headers, "ce-source": "%C3%28" }, message.body],
      [{ ...message.headers, "ce-region": ["eu-de", "eu-nl"] }, message.body],
      [{ ...message.headers, "ce-specversion": "0.3" }, message.body],
      [message.headers, "{not json"],
      [message.headers, ""],
      [message.headers, "[1,2]"],
    ];
    for (const [headers, body] of cases) {
      assert.throws(
        () => parse(headers, body),
        (error: unknown) => {
          assert.ok(isAppError(error));
          assert.equal(error.details["eventId"], "t-1", error.message);
          assert.match(error.message, /id "t-1"/);
          return true;
        },
      );
    }
    // An id that is itself undecodable is not valid, so there is nothing to name.
    assert.throws(
      () => parse({ ...message.headers, "ce-id": "%FF" }, message.body),
      (error: unknown) => isAppError(error) && error.details["eventId"] === undefined,
    );
  });

  test("withEventId names a 400 raised before parsing after the request's ce-id", () => {
    const message = binaryMessage(event);
    let caught: unknown;
    try {
      detectContentMode({ ...message.headers, "content-type": ["application/json", "text/x"] });
    } catch (error) {
      caught = error;
    }
    assert.ok(isAppError(caught));
    const named = withEventId(caught, message.headers);
    assert.equal(named.details["eventId"], "t-1");
    assert.match(named.message, /^id "t-1": header content-type appears 2 times/);
    assert.equal(binaryEventId({ "ce-id": ["a", "b"] }), undefined);
    assert.equal(binaryEventId({ "ce-id": "caf%C3%A9" }), "café");
  });

  test("data the receiver refuses is its CE_DATA_INVALID, and the reason never quotes the body", () => {
    const message = binaryMessage(event);
    rejects(() => parse(message.headers, "[1,2]"), "CE_DATA_INVALID");
    assert.throws(
      () => parse(message.headers, '{"password": "hunter2-secret", bad'),
      (error: Error) => !error.message.includes("hunter2"),
    );
  });
});

describe("structured and batch mode", () => {
  test("a structured event round-trips, numbers and booleans as extension strings", () => {
    const message = structuredMessage(event);
    const body = JSON.stringify({ ...JSON.parse(message.body), count: 3, flag: true });
    const parsed = parse(message.headers, body)[0]!;
    assert.equal(parsed.id, "t-1");
    assert.equal(parsed.extensions["count"], "3");
    assert.equal(parsed.extensions["flag"], "true");
    assert.equal(parsed.data["trace_id"], "t-1");
  });

  test("unlike the cloudevents package, a missing id or time is never invented", () => {
    const base = JSON.parse(structuredMessage(event).body) as Record<string, unknown>;
    const { id: _id, ...noId } = base;
    const headers = { "content-type": "application/cloudevents+json" };
    rejects(() => parse(headers, JSON.stringify(noId)), "CE_INVALID", /"id"/);
    const { time: _time, ...noTime } = base;
    assert.equal(parse(headers, JSON.stringify(noTime))[0]?.time, undefined);
    rejects(() => parse(headers, JSON.stringify({ ...base, time: "now" })), "CE_INVALID", /time/);
    rejects(() => parse(headers, JSON.stringify({ ...base, id: 42 })), "CE_INVALID", /string/);
    rejects(() => parse(headers, JSON.stringify([base])), "CE_INVALID", /JSON object/);
  });

  test("data_base64 and JSON datacontenttypes are accepted; other data types are not", () => {
    const base = JSON.parse(structuredMessage(event).body) as Record<string, unknown>;
    const { data, ...attributes } = base;
    const headers = { "content-type": "application/cloudevents+json" };
    const encoded = {
      ...attributes,
      data_base64: Buffer.from(JSON.stringify(data)).toString("base64"),
    };
    assert.equal(parse(headers, JSON.stringify(encoded))[0]?.data["trace_id"], "t-1");
    rejects(() => parse(headers, JSON.stringify({ ...encoded, data })), "CE_INVALID", /both/);
    rejects(
      () => parse(headers, JSON.stringify({ ...base, datacontenttype: "text/plain" })),
      "CE_DATA_INVALID",
    );
    assert.equal(
      parse(headers, JSON.stringify({ ...base, datacontenttype: "application/vnd.otc+json" }))
        .length,
      1,
    );
  });

  test("a batch yields every event; one bad element rejects the request and names its index", () => {
    const second = { ...event, id: "t-2" };
    const message = batchMessage([event, second]);
    assert.deepEqual(
      parse(message.headers, message.body).map((e) => e.id),
      ["t-1", "t-2"],
    );
    const elements = JSON.parse(message.body) as Record<string, unknown>[];
    elements[1] = { ...elements[1], source: "" };
    assert.throws(
      () => parse(message.headers, JSON.stringify(elements)),
      (error: unknown) =>
        isAppError(error) &&
        error.code === "CE_INVALID" &&
        error.details["index"] === 1 &&
        error.message.includes("event 1"),
    );
    rejects(() => parse(message.headers, JSON.stringify({})), "CE_INVALID", /array/);
    assert.deepEqual(parse(message.headers, "[]"), []);
  });
});

describe("robustness", () => {
  test("any body in any mode yields events or an AppError with a 4xx code, never another error", () => {
    const codes = new Set(["CE_INVALID", "CE_DATA_INVALID", "UNSUPPORTED_MEDIA_TYPE"]);
    const headerSets = [
      binaryMessage(event).headers,
      structuredMessage(event).headers,
      batchMessage([event]).headers,
    ];
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc
        .record(
          {
            specversion: fc.constantFrom("1.0", "0.3"),
            id: fc.string(),
            source: fc.string(),
            type: fc.string(),
            time: fc.string(),
            data: fc.jsonValue(),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
    );
    fc.assert(
      fc.property(fc.constantFrom(...headerSets), bodies, (headers, body) => {
        try {
          parse(headers, body);
        } catch (error) {
          return isAppError(error) && codes.has(error.code);
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  test("isRfc3339 accepts offsets and fractions, rejects impossible dates", () => {
    for (const ok of [
      "2024-02-29T23:59:60Z",
      "2023-11-14T22:13:20.123456789+05:30",
      "2023-01-01t00:00:00z",
    ]) {
      assert.ok(isRfc3339(ok), ok);
    }
    for (const bad of [
      "2023-02-29T00:00:00Z",
      "2023-13-01T00:00:00Z",
      "2023-01-01T00:00:00",
      "2023-01-01T00:00:00+24:00",
    ]) {
      assert.ok(!isRfc3339(bad), bad);
    }
  });
});
