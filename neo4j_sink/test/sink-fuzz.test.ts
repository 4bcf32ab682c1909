import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { batchMessage, binaryMessage, structuredMessage } from "@cts/shared";
import { httpPost } from "@cts/devkit";
import { sinkForSuite } from "../src/testing.js";
import { eventFor, rawTrace } from "./helpers.js";

type Headers = Record<string, string | string[]>;
interface Request {
  readonly headers: Headers;
  readonly body: string;
}

/** Header values node:http will put on the wire: tab, printable ASCII and latin-1 bytes. */
const headerValue = fc
  .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })), {
    maxLength: 40,
  })
  .map((codes) => String.fromCharCode(...codes));
const headerName = fc.stringMatching(/^[a-z0-9-]{1,12}$/);

const base = (i: number) => eventFor(rawTrace({ trace_id: `fuzz-${i}` }));
const seeds: readonly Request[] = [
  binaryMessage(base(1)),
  structuredMessage(base(2)),
  batchMessage([base(3), base(4)]),
];

/** One change that may or may not break a valid request. */
const mutation: fc.Arbitrary<(request: Request) => Request> = fc.oneof(
  fc.nat().map((n) => (r: Request) => {
    const names = Object.keys(r.headers);
    const victim = names[n % names.length];
    return {
      ...r,
      headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => k !== victim)),
    };
  }),
  fc
    .tuple(
      fc.constantFrom(
        "ce-id",
        "ce-source",
        "ce-type",
        "ce-specversion",
        "ce-time",
        "ce-subject",
        "content-type",
      ),
      headerValue,
    )
    .map(([name, value]) => (r: Request) => ({ ...r, headers: { ...r.headers, [name]: value } })),
  fc.tuple(headerName, headerValue).map(([name, value]) => (r: Request) => ({
    ...r,
    headers: { ...r.headers, [`ce-${name}`]: value },
  })),
  fc.constantFrom("ce-id", "ce-time", "content-type").map((name) => (r: Request) => ({
    ...r,
    headers: { ...r.headers, [name]: ["1", "2"] },
  })),
  fc.string({ maxLength: 200 }).map((body) => (r: Request) => ({ ...r, body })),
  fc
    .jsonValue({ maxDepth: 3 })
    .map((value) => (r: Request) => ({ ...r, body: JSON.stringify(value) })),
  fc.nat({ max: 400 }).map((end) => (r: Request) => ({ ...r, body: r.body.slice(0, end) })),
  fc
    .tuple(
      fc.constantFrom(
        "time",
        "trace_id",
        "user",
        "code",
        "request",
        "record_time",
        "specversion",
        "id",
        "data",
        "source",
      ),
      fc.jsonValue({ maxDepth: 2 }),
    )
    .map(([field, value]) => (r: Request) => {
      try {
        const json = JSON.parse(r.body) as unknown;
        const target = Array.isArray(json)
          ? (json[0] as Record<string, unknown>)
          : (json as Record<string, unknown>);
        const data = (target["data"] ?? target) as Record<string, unknown>;
        if (field in data) data[field] = value;
        else target[field] = value;
        return { ...r, body: JSON.stringify(json) };
      } catch {
        return r;
      }
    }),
);

describe("malformed requests (fast-check against the real sink and Neo4j)", () => {
  const ctx = sinkForSuite({ maxBodyBytes: 4096 });

  test("never get a 5xx, always a contract status, and the sink keeps serving", async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (seed, changes) => {
          const malformed = changes.reduce((request, change) => change(request), seed);
          const answer = await httpPost(ctx.sink.url, malformed);
          seen.add(answer.status);
          assert.ok(
            [202, 400, 413, 415].includes(answer.status),
            `status ${answer.status}: ${answer.body}`,
          );
          if (answer.status !== 202) {
            const json = JSON.parse(answer.body) as { error?: unknown; reason?: unknown };
            assert.equal(typeof json.error, "string");
            assert.equal(typeof json.reason, "string");
          }
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(
      seen.has(202) && seen.has(400) && seen.has(415),
      `statuses seen: ${[...seen].join(", ")}`,
    );
    assert.equal((await fetch(`${ctx.sink.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${ctx.sink.url}/readyz`)).status, 200);
  });
});
