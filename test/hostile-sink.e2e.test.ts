/**
 * Hostile input to the sink (issue 8, item 2). The sink runs as a child process on the real
 * test Neo4j, so "it never crashes" means the process, and its memory is read from /proc.
 * neo4j_sink/test/sink-fuzz.test.ts already mutates valid requests in-process; this file adds
 * what only a hostile sender does: Cypher injection in every string field of valid events
 * (which must be stored byte for byte), requests that are surely invalid in every way the
 * contract names, deep nesting, bodies at and over the limit, bytes that are no UTF-8 in
 * bodies and headers, and requests no HTTP client would send. Afterwards the graph must hold
 * exactly the accepted events: no injected Cypher ran.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import type { Driver } from "neo4j-driver";
import {
  freshNeo4j,
  httpPost,
  memoryOf,
  MiB,
  rawExchange,
  rawStatus,
  startSinkProcess,
  type HttpAnswer,
  type SinkProcess,
  type TestNeo4j,
  type WireRequest,
} from "@cts/devkit";
import type { RawCtsTrace } from "@cts/shared";
import {
  BREAKAGES,
  DEEP_PLACEHOLDER,
  encode,
  eventOf,
  expectedOf,
  hostileEvent,
  hostileText,
  MODES,
  spliceDeep,
  toWire,
  traceParts,
  uniqueId,
  wireStyle,
  type EventJson,
  type Expected,
  type Mode,
  type TraceParts,
  type Breakage,
  type WireStyle,
} from "./support/hostile-events.js";
import { assertNoSecrets } from "./support/secrets.js";

/** The sink's defaults (README): the limits a hostile sender meets in production. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_TEXT_CHARS = 8192;
/** Requests per mode and property; HOSTILE_RUNS raises it for a longer local hunt. */
const RUNS = Number(process.env["HOSTILE_RUNS"] ?? 100);
/**
 * Peak resident memory the sink may reach over the whole run. It runs from TypeScript through
 * tsx (about 150 MiB before the first request); 64 MiB uploads must not be buffered.
 */
const PEAK_RSS_BOUND = 384 * MiB;
const DEPTH = 10_000;

const PLAIN_STYLE: WireStyle = {
  headerCase: 0,
  rawUtf8: false,
  contentType: 0,
  base64Data: false,
  junkHeaders: [],
};

/** A realistic trace (unique ids) to hang one hostile detail on. */
function plainTrace(prefix: string, extra: RawCtsTrace = {}): RawCtsTrace {
  return {
    trace_id: uniqueId(prefix, "plain"),
    trace_name: "updateServer",
    trace_rating: "normal",
    trace_type: "ApiCall",
    service_type: "ECS",
    resource_type: "server",
    resource_name: "web-01",
    resource_id: uniqueId("res", "plain"),
    source_ip: "192.0.2.7",
    code: "200",
    time: 1_700_000_000_000,
    user: { id: uniqueId("user", "plain"), name: "alice", domain: { id: "d-1", name: "OTC-1" } },
    ...extra,
  };
}

describe("hostile input to the sink (child process, real Neo4j)", () => {
  let neo: TestNeo4j;
  let sink: SinkProcess;
  /** Every event a 202 acknowledged, with what the graph must hold for it. */
  const accepted = new Map<string, Expected>();
  /** Ids of events inside requests that were refused. */
  const refused = new Set<string>();
  const tallies = new Map<
    string,
    { requests: number; accepted: number; rejected: Map<number, number> }
  >();

  const tally = (mode: string, status: number | undefined) => {
    const entry = tallies.get(mode) ?? {
      requests: 0,
      accepted: 0,
      rejected: new Map<number, number>(),
    };
    tallies.set(mode, entry);
    entry.requests++;
    if (status === 202) entry.accepted++;
    else entry.rejected.set(status ?? 0, (entry.rejected.get(status ?? 0) ?? 0) + 1);
  };

  async function send(
    mode: string,
    message: WireRequest,
    options: { pieces?: number } = {},
  ): Promise<HttpAnswer> {
    const answer = await httpPost(sink.url, message, { timeoutMs: 60_000, ...options });
    tally(mode, answer.status);
    return answer;
  }

  /** Sends valid events and records them as accepted once the sink said 202. */
  async function sendValid(
    mode: Mode,
    events: readonly EventJson[],
    options: { style?: WireStyle; label?: string } = {},
  ) {
    const answer = await send(
      options.label ?? mode,
      toWire(encode(mode, events, options.style ?? PLAIN_STYLE)),
    );
    if (answer.status === 202) {
      for (const event of events)
        accepted.set(String(event.data["trace_id"]), expectedOf(event, MAX_TEXT_CHARS));
    } else {
      for (const event of events) refused.add(String(event.data["trace_id"]));
    }
    return answer;
  }

  function assertRefusal(answer: HttpAnswer, status: number, what: string): void {
    assert.equal(answer.status, status, `${what}: ${answer.status} ${answer.body.slice(0, 300)}`);
    assert.match(String(answer.headers["content-type"]), /application\/json/, what);
    const json = JSON.parse(answer.body) as { error?: unknown; reason?: unknown };
    assert.equal(typeof json.error, "string", `${what}: error code`);
    assert.equal(typeof json.reason, "string", `${what}: reason`);
  }

  /** The process is still running and answers /healthz: checked after every phase. */
  async function assertAlive(phase: string): Promise<void> {
    const child = sink.process.child;
    assert.ok(
      child.exitCode === null && child.signalCode === null,
      `the sink died during ${phase}\n${sink.process.output().slice(-3000)}`,
    );
    const health = await fetch(`${sink.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(health.status, 200, `/healthz after ${phase}`);
  }

  before(async () => {
    neo = await freshNeo4j();
    sink = await startSinkProcess(neo, { env: { LOG_LEVEL: "info" } });
  });
  after(async () => {
    await sink.process.stop();
    await neo.close();
  });

  for (const mode of MODES) {
    test(`${mode} mode: fuzzed valid events with injection strings in every field are accepted (202)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(traceParts, { minLength: 1, maxLength: mode === "batch" ? 4 : 1 }),
          wireStyle,
          async (partsList, style) => {
            const events = partsList.map((parts) => hostileEvent(parts, "ok"));
            const answer = await sendValid(mode, events, { style });
            assert.equal(answer.status, 202, answer.body);
            assert.equal(answer.body, "");
          },
        ),
        { numRuns: RUNS },
      );
      await assertAlive(`the valid ${mode} fuzz`);
    });
  }

  for (const mode of MODES) {
    test(`${mode} mode: fuzzed invalid events get 400 or 415 with a JSON reason`, async () => {
      const breakages = BREAKAGES.filter((breakage) => breakage.modes.includes(mode));
      // Every breakage once on a fixed trace, then random combinations.
      const [fixedParts] = fc.sample(traceParts, { numRuns: 1, seed: 7 });
      const examples = breakages.map(
        (breakage, index): [TraceParts[], Breakage, string, number, WireStyle] => [
          [fixedParts!],
          breakage,
          `junk-${index}`,
          0,
          PLAIN_STYLE,
        ],
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(traceParts, { minLength: 1, maxLength: mode === "batch" ? 4 : 1 }),
          fc.constantFrom(...breakages),
          hostileText,
          fc.nat(),
          wireStyle,
          async (partsList, breakage, junk, pick, style) => {
            const events: unknown[] = partsList.map((parts) => hostileEvent(parts, "rej"));
            for (const event of events) refused.add(String((event as EventJson).data["trace_id"]));
            const index = pick % events.length;
            if (breakage.event !== undefined) {
              events[index] = breakage.event(events[index] as EventJson, junk);
            }
            const wire = encode(mode, events, style);
            breakage.wire?.(wire, junk);
            assertRefusal(await send(mode, toWire(wire)), breakage.status, breakage.name);
          },
        ),
        { numRuns: RUNS + examples.length, examples },
      );
      await assertAlive(`the invalid ${mode} fuzz`);
    });
  }

  test(`nesting ${DEPTH.toLocaleString("en")} deep as the body, in a batch, in unknown fields: 400 or 202`, async () => {
    const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    const deepObject = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    const event = eventOf(plainTrace("rej"));
    refused.add(String(event.data["trace_id"]));
    const binary = encode("binary", [event], PLAIN_STYLE);
    const asBody = (mode: Mode, body: string): WireRequest => ({
      headers: mode === "binary" ? binary.headers : encode(mode, [event], PLAIN_STYLE).headers,
      body,
    });
    for (const [what, mode, body] of [
      ["binary body: arrays", "binary", deepArray(DEPTH)],
      ["binary body: objects", "binary", deepObject(DEPTH)],
      ["binary body: arrays 100,000 deep", "binary", deepArray(100_000)],
      ["structured body: arrays", "structured", deepArray(DEPTH)],
      ["structured body: objects", "structured", deepObject(DEPTH)],
      ["batch body: arrays", "batch", deepArray(DEPTH)],
      ["batch body: one deep element", "batch", `[${deepObject(DEPTH)}]`],
    ] as const) {
      assertRefusal(await send("deep", asBody(mode, body)), 400, what);
    }

    // Deep values the sink does not store (an unknown trace field, an unknown user field) and
    // a deep JSON document sent as text (CTS's usual form of `request`) are harmless.
    const deep = deepObject(DEPTH);
    for (const mode of MODES) {
      const traces = [
        plainTrace("ok", { vendor_extension: DEEP_PLACEHOLDER }),
        plainTrace("ok", {
          user: { id: uniqueId("user", "deep"), name: "bob", x: DEEP_PLACEHOLDER },
        }),
        plainTrace("ok", { request: deep }),
      ];
      for (const trace of traces) {
        const event = eventOf(trace);
        let wire = encode(mode, [event], PLAIN_STYLE);
        if (wire.body.includes(DEEP_PLACEHOLDER)) wire = spliceDeep(wire, deep);
        const answer = await send("deep", toWire(wire));
        assert.equal(answer.status, 202, `${mode}: ${answer.body}`);
        accepted.set(String(trace["trace_id"]), expectedOf(event, MAX_TEXT_CHARS));
      }
    }
    await assertAlive("deep nesting");
  });

  test("bodies at, near and over the 1 MiB limit; 64 MiB uploads are refused without buffering", async (t) => {
    // One event whose body is exactly the limit (multi-byte padding): accepted, `request` cut.
    const exact = (extraBytes: number) => {
      const trace = plainTrace(extraBytes === 0 ? "ok" : "rej", { request: "" });
      const base = Buffer.byteLength(JSON.stringify(eventOf(trace)));
      const pad = MAX_BODY_BYTES - base + extraBytes;
      trace["request"] = "東".repeat(Math.floor(pad / 3)) + "x".repeat(pad % 3);
      const event = eventOf(trace);
      assert.equal(Buffer.byteLength(JSON.stringify(event)), MAX_BODY_BYTES + extraBytes);
      return event;
    };
    const atLimit = exact(0);
    assert.equal((await sendValid("structured", [atLimit], { label: "large" })).status, 202);
    const stored = accepted.get(String(atLimit.data["trace_id"]));
    assert.equal(stored?.action["truncated"], true);
    assert.equal(String(stored.action["request"]).length, MAX_TEXT_CHARS);
    assertRefusal(
      await sendValid("structured", [exact(1)], { label: "large" }),
      413,
      "one byte over the limit",
    );

    // A batch of as many fuzzed events as fit: every one stored. One more event: 413, none.
    const pool = fc.sample(traceParts, { numRuns: 4000, seed: 42 });
    const batch: EventJson[] = [];
    let size = 2;
    for (const parts of pool) {
      const event = hostileEvent(parts, "ok");
      const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
      if (size + bytes > MAX_BODY_BYTES) break;
      batch.push(event);
      size += bytes;
    }
    assert.ok(batch.length > 500, `a large batch (${batch.length} events)`);
    assert.equal((await sendValid("batch", batch, { label: "large" })).status, 202);
    t.diagnostic(`a batch of ${batch.length} fuzzed events in ${size} bytes: 202`);
    // The same events under new ids, plus more until the body is over the limit.
    const overflow = batch.map((event) =>
      eventOf(
        { ...event.data, trace_id: uniqueId("rej", "overflow") },
        { tenant: String(event["tenant"]), region: String(event["region"]) },
      ),
    );
    for (const parts of pool.slice(batch.length, batch.length + 20)) {
      overflow.push(hostileEvent(parts, "rej"));
    }
    const overflowBody = toWire(encode("batch", overflow, PLAIN_STYLE));
    assert.ok(Buffer.byteLength(overflowBody.body) > MAX_BODY_BYTES);
    for (const event of overflow) refused.add(String(event.data["trace_id"]));
    assertRefusal(await send("large", overflowBody), 413, "a batch over the limit");

    // 20,000 unknown fields (about 500 KB) in one trace: accepted, none of them stored.
    const wide: RawCtsTrace = plainTrace("ok");
    for (let i = 0; i < 20_000; i++) wide[`f${i}`] = "'}) DETACH DELETE n //";
    assert.equal((await sendValid("binary", [eventOf(wide)], { label: "large" })).status, 202);

    // 64 MiB, declared and streamed: refused at the limit, the rest drained, not kept.
    const before = memoryOf(sink.pid);
    const huge = Buffer.alloc(64 * MiB, "x");
    const headers = encode("binary", [eventOf(plainTrace("rej"))], PLAIN_STYLE).headers;
    assertRefusal(await send("large", { headers, body: huge }), 413, "64 MiB declared");
    assertRefusal(
      await send("large", { headers, body: huge }, { pieces: 256 }),
      413,
      "64 MiB chunked",
    );
    const afterUploads = memoryOf(sink.pid);
    t.diagnostic(
      `RSS ${(before.rssBytes / MiB).toFixed(0)} MiB before two 64 MiB uploads, peak ${(afterUploads.peakRssBytes / MiB).toFixed(0)} MiB after`,
    );
    // Buffering one upload would lift the peak to at least 64 MiB above the RSS before.
    assert.ok(
      afterUploads.peakRssBytes < Math.max(before.peakRssBytes + MiB, before.rssBytes + 48 * MiB),
      "a refused upload is drained, not buffered",
    );
    await assertAlive("large bodies");
  });

  test("bytes that are no UTF-8, raw in the body and in headers (node:http, not fetch)", async () => {
    const sequences = [
      [0xff],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe6, 0x9d],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
    ];
    for (const bytes of sequences) {
      const bad = String.fromCharCode(...bytes);
      for (const mode of MODES) {
        const event = eventOf(plainTrace("rej"));
        refused.add(String(event.data["trace_id"]));
        const wire = encode(mode, [event], PLAIN_STYLE);
        const text = wire.body.toString("utf8");
        const at = text.indexOf("web-01");
        const body = Buffer.concat([
          Buffer.from(text.slice(0, at)),
          Buffer.from(bytes),
          Buffer.from(text.slice(at)),
        ]);
        assertRefusal(
          await send("utf-8", { headers: wire.headers, body }),
          400,
          `${mode} body with ${bytes.join(",")}`,
        );
      }
      for (const header of [
        "ce-id",
        "ce-type",
        "ce-source",
        "ce-subject",
        "ce-specversion",
        "ce-tenant",
      ]) {
        const event = eventOf(plainTrace("rej"));
        refused.add(String(event.data["trace_id"]));
        const wire = encode("binary", [event], PLAIN_STYLE);
        wire.headers[header] = `a${bad}b`;
        assertRefusal(await send("utf-8", toWire(wire)), 400, `${header} with ${bytes.join(",")}`);
      }
      const wire = encode("binary", [eventOf(plainTrace("rej"))], PLAIN_STYLE);
      wire.headers["content-type"] = `application/json; charset=${bad}`;
      assertRefusal(await send("utf-8", toWire(wire)), 415, "a charset that is no UTF-8");
    }
    // Raw UTF-8 in header values (what sdk-go sends) is read as UTF-8, not as latin-1.
    const raw = eventOf(plainTrace("ok", { resource_name: "Prüfserver 東京 😀" }));
    const wire = encode("binary", [raw], { ...PLAIN_STYLE, rawUtf8: true });
    assert.match(String(wire.headers["ce-subject"]), /[\u0080-\u00ff]/, "sent as raw bytes");
    assert.equal(
      (
        await sendValid("binary", [raw], {
          style: { ...PLAIN_STYLE, rawUtf8: true },
          label: "utf-8",
        })
      ).status,
      202,
    );
    await assertAlive("invalid UTF-8");
  });

  test("requests no HTTP client would send get a 4xx from the parser, and the sink stays up", async (t) => {
    const head = (lines: string[]) => Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
    const valid = encode("binary", [eventOf(plainTrace("rej"))], PLAIN_STYLE);
    const ceHeaders = Object.entries(valid.headers).map(
      ([name, value]) => `${name}: ${String(value)}`,
    );
    const body = valid.body.toString("latin1");
    const cases: [string, Buffer, { halfClose?: boolean }?][] = [
      [
        "NUL in a header value",
        head(["POST / HTTP/1.1", "Host: x", "ce-id: a\u0000b", "Content-Length: 0"]),
      ],
      [
        "a header name with byte 0xff",
        head(["POST / HTTP/1.1", "Host: x", "ce-\u00ffid: a", "Content-Length: 0"]),
      ],
      ["Content-Length not a number", head(["POST / HTTP/1.1", "Host: x", "Content-Length: abc"])],
      [
        "Content-Length and chunked together",
        head([
          "POST / HTTP/1.1",
          "Host: x",
          "Content-Length: 5",
          "Transfer-Encoding: chunked",
          ...ceHeaders,
        ]),
      ],
      [
        "a chunk size that is no number",
        Buffer.concat([
          head(["POST / HTTP/1.1", "Host: x", "Transfer-Encoding: chunked", ...ceHeaders]),
          Buffer.from("zz\r\nabc\r\n0\r\n\r\n"),
        ]),
      ],
      [
        "a 20 KB header",
        head([
          "POST / HTTP/1.1",
          "Host: x",
          `ce-subject: ${"s".repeat(20_000)}`,
          "Content-Length: 0",
        ]),
      ],
      [
        "a TLS hello on the HTTP port",
        Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
      ],
      ["a bare LF request line", Buffer.from("POST / HTTP/1.1\nHost: x\n\n")],
      [
        "a body shorter than its Content-Length, then the sender hangs up",
        Buffer.concat([
          head([
            "POST / HTTP/1.1",
            "Host: x",
            `Content-Length: ${body.length + 100}`,
            ...ceHeaders,
          ]),
          Buffer.from(body, "latin1"),
        ]),
        { halfClose: true },
      ],
    ];
    const seen: string[] = [];
    for (const [what, bytes, options] of cases) {
      const answer = await rawExchange(sink.port, bytes, { timeoutMs: 5_000, ...options });
      const status = rawStatus(answer);
      tally("raw socket", status);
      seen.push(`${what}: ${status ?? "closed"}`);
      if (status !== undefined)
        assert.ok(status >= 400 && status < 500, `${what}: ${answer.slice(0, 200)}`);
      else
        assert.ok(options?.halfClose === true || answer === "", `${what}: ${answer.slice(0, 200)}`);
      await assertAlive(what);
    }
    t.diagnostic(`raw socket answers: ${seen.join("; ")}`);
  });

  test("request/response/message nested 10,000 deep are stored, cut to the bound", async () => {
    const deep = '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH);
    const failures: string[] = [];
    for (const field of ["request", "response", "message"]) {
      for (const mode of MODES) {
        const trace = plainTrace("ok", { [field]: DEEP_PLACEHOLDER });
        const event = eventOf(trace);
        const answer = await send(
          "edge cases",
          toWire(spliceDeep(encode(mode, [event], PLAIN_STYLE), deep)),
        );
        if (answer.status >= 500) failures.push(`${field} (${mode}): ${answer.status}`);
        if (answer.status === 202) {
          // Stored: how the deep text is cut is the sink's choice; everything else is checked.
          accepted.set(String(trace["trace_id"]), {
            ...expectedOf(event, MAX_TEXT_CHARS),
            skip: [field, "truncated"],
          });
        } else {
          refused.add(String(trace["trace_id"]));
        }
      }
    }
    await assertAlive("deeply nested stored fields");
    assert.deepEqual(failures, [], "never a 5xx for a request that will fail the same way again");
  });

  test("a key or indexed name over Neo4j's 8 KB index-key limit is shortened and stored", async () => {
    const long = "L".repeat(10_000);
    // What a fix may shorten or hash is its choice: those fields are checked here, not below.
    const cases: [string, Mode, EventJson, string[]][] = [
      ["resource_name", { resource_name: long }, ["resource"]],
      ["resource_id", { resource_id: long }, ["resource"]],
      ["source_ip", { source_ip: long }, ["ip", "sourceIp"]],
      ["user.name", { user: { id: uniqueId("user", "long"), name: long } }, ["user"]],
      ["user.id", { user: { id: long, name: "alice" } }, ["user"]],
      [
        "user.domain.id",
        { user: { id: uniqueId("user", "long"), name: "a", domain: { id: long } } },
        ["domainId"],
      ],
    ].map(([what, extra, skip]) => [
      what as string,
      "structured",
      eventOf(plainTrace("ok", extra as RawCtsTrace)),
      skip as string[],
    ]);
    cases.push([
      "tenant",
      "binary",
      eventOf(plainTrace("ok"), { tenant: long, region: "eu-de" }),
      ["projectId"],
    ]);
    const failures: string[] = [];
    for (const [what, mode, event, skip] of cases) {
      const answer = await sendValid(mode, [event], { label: "edge cases" });
      if (answer.status >= 500) failures.push(`${what}: ${answer.status} ${answer.body}`);
      const id = String(event.data["trace_id"]);
      if (answer.status === 202) accepted.set(id, { ...accepted.get(id)!, skip });
    }
    await assertAlive("long indexed strings");
    assert.deepEqual(failures, [], "a 5xx makes senders retry an event that can never be stored");
  });

  test('a "__proto__" key inside request/response/message is kept in the stored text', async () => {
    // JSON.parse makes "__proto__" an own key; the stored text must keep what CTS sent.
    const request = JSON.parse('{"__proto__":"x","servers":[{"id":"srv-1"}]}') as unknown;
    const trace = plainTrace("ok", { request });
    const event = eventOf(trace);
    assert.equal((await sendValid("structured", [event], { label: "edge cases" })).status, 202);
    const id = String(trace["trace_id"]);
    accepted.set(id, { ...accepted.get(id)!, skip: ["request"] }); // the graph test: the rest
    const stored = await neo.driver.executeQuery(
      "MATCH (a:Action {id: $id}) RETURN a.request AS request",
      { id },
    );
    assert.equal(stored.records[0]?.get("request"), JSON.stringify(request));
  });

  test("binary mode keeps a leading U+FEFF in ce- header values", async () => {
    const place = { tenant: "\ufeffp-bom", region: "eu-de" };
    const events = [false, true].map((rawUtf8) => {
      const event = eventOf(plainTrace("ok", { service_type: "\ufeffECS" }), place);
      return { event, rawUtf8 };
    });
    const first = events[0]!.event;
    assert.equal(first["type"], "\ufeffecs.apicall.server.updateserver");
    for (const { event, rawUtf8 } of events) {
      assert.equal(
        (
          await sendValid("binary", [event], {
            style: { ...PLAIN_STYLE, rawUtf8 },
            label: "edge cases",
          })
        ).status,
        202,
      );
      // The graph test checks everything else of these events.
      const id = String(event.data["trace_id"]);
      accepted.set(id, { ...accepted.get(id)!, skip: ["eventType", "projectId"] });
    }
    const stored = await neo.driver.executeQuery(
      `UNWIND $ids AS id MATCH (a:Action {id: id})-[:IN_PROJECT]->(p)
         RETURN a.eventType AS type, p.id AS project`,
      { ids: events.map(({ event }) => event.data["trace_id"]) },
    );
    for (const record of stored.records) {
      assert.equal(record.get("type"), first["type"], "Action.eventType");
      assert.equal(record.get("project"), place.tenant, "Project.id");
    }
  });

  test("the graph holds exactly the accepted events, every string field as sent", async (t) => {
    const driver: Driver = neo.driver;
    const ids = [...accepted.keys()];
    const stored = await driver.executeQuery("MATCH (a:Action) RETURN a.id AS id");
    const storedIds = new Set(stored.records.map((record) => record.get("id") as string));
    const missing = ids.filter((id) => !storedIds.has(id));
    const unexpected = [...storedIds].filter((id) => !accepted.has(id));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} accepted events missing`);
    assert.deepEqual(
      unexpected.slice(0, 5),
      [],
      `${unexpected.length} events stored that were refused`,
    );
    assert.ok(
      [...refused].every((id) => !storedIds.has(id)),
      "no event of a refused request",
    );

    const result = await driver.executeQuery(
      `UNWIND $ids AS id
       MATCH (a:Action {id: id})-[:IN_PROJECT]->(p:Project)
       OPTIONAL MATCH (p)-[:LOCATED_AT]->(r:Region)
       WITH a, p, collect(r.id) AS regionIds
       OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u:User)
       OPTIONAL MATCH (u)-[:BELONGS_TO]->(d:Domain)
       OPTIONAL MATCH (a)-[:APPLIED_ON]->(res:Resource)
       OPTIONAL MATCH (a)-[:FROM_IP]->(ip:IpAddress)
       RETURN a {.*, time: null, recordTime: null} AS action, u {.id, .name} AS user, d.id AS domainId,
              res {.key, .id, .name, .type, .service} AS resource, ip.address AS ip,
              p.id AS projectId, regionIds`,
      { ids },
    );
    assert.equal(result.records.length, ids.length, "one row per accepted event");
    let fields = 0;
    for (const record of result.records) {
      const action = record.get("action") as Record<string, unknown>;
      const expected = accepted.get(action["id"] as string)!;
      const what = `event ${JSON.stringify(expected.id)}`;
      const skip = new Set(expected.skip);
      for (const [name, value] of Object.entries(expected.action)) {
        if (skip.has(name)) continue;
        assert.equal(action[name] ?? null, value, `${what}: Action.${name}`);
        fields++;
      }
      const check = (name: string, actual: unknown, wanted: unknown) => {
        if (!skip.has(name)) assert.deepEqual(actual, wanted, `${what}: ${name}`);
      };
      check("user", record.get("user"), expected.user);
      check("domainId", record.get("domainId"), expected.domainId);
      check("resource", record.get("resource"), expected.resource);
      check("ip", record.get("ip"), expected.ip);
      check("projectId", record.get("projectId"), expected.projectId);
      // A project may have been seen in several regions; the event's must be one of them.
      assert.ok(
        (record.get("regionIds") as string[]).includes(expected.regionId),
        `${what}: Region`,
      );
      fields += 10;
    }

    // Counts of every label and relationship type are what the accepted events imply: an
    // injected DETACH DELETE, CREATE or SET would show here.
    const all = [...accepted.values()];
    const distinct = (values: (string | null)[]) => new Set(values.filter((v) => v !== null)).size;
    const pairs = (values: [string | null | undefined, string | null | undefined][]) =>
      distinct(values.map(([a, b]) => (a == null || b == null ? null : JSON.stringify([a, b]))));
    const expectedCounts: Record<string, number> = {
      Action: all.length,
      User: distinct(all.map((e) => e.user?.id ?? null)),
      Domain: distinct(all.map((e) => e.domainId)),
      Resource: distinct(all.map((e) => e.resource?.key ?? null)),
      IpAddress: distinct(all.map((e) => e.ip)),
      Project: distinct(all.map((e) => e.projectId)),
      Region: distinct(all.map((e) => e.regionId)),
      PERFORMED_BY: all.filter((e) => e.user !== null).length,
      BELONGS_TO: pairs(all.map((e) => [e.user?.id, e.domainId])),
      APPLIED_ON: all.filter((e) => e.resource !== null).length,
      MEMBER_OF: pairs(all.map((e) => [e.resource?.key, e.projectId])),
      FROM_IP: all.filter((e) => e.ip !== null).length,
      IN_PROJECT: all.length,
      LOCATED_AT: pairs(all.map((e) => [e.projectId, e.regionId])),
    };
    const counts: Record<string, number> = {};
    const labels = await driver.executeQuery(
      "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n",
    );
    const types = await driver.executeQuery(
      "MATCH ()-[r]->() RETURN type(r) AS label, count(*) AS n",
    );
    for (const record of [...labels.records, ...types.records]) {
      counts[record.get("label") as string] = Number(record.get("n"));
    }
    assert.deepEqual(
      counts,
      Object.fromEntries(Object.entries(expectedCounts).filter(([, n]) => n > 0)),
    );
    const unlabeled = await driver.executeQuery(
      "MATCH (n) WHERE size(labels(n)) <> 1 RETURN count(n) AS n",
    );
    assert.equal(Number(unlabeled.records[0]?.get("n")), 0, "every node has exactly one label");
    t.diagnostic(
      `graph: ${all.length} actions, ${fields} stored fields compared, counts ${JSON.stringify(counts)}`,
    );
  });

  test("figures; peak RSS bounded; every log line is one JSON object; no secret logged", async (t) => {
    let requests = 0;
    for (const [mode, entry] of tallies) {
      requests += entry.requests;
      const rejected = [...entry.rejected].map(
        ([status, n]) => `${status === 0 ? "closed" : status}:${n}`,
      );
      t.diagnostic(
        `${mode}: ${entry.requests} requests, ${entry.accepted} accepted, rejected ${rejected.join(" ") || "none"}`,
      );
    }
    const memory = memoryOf(sink.pid);
    t.diagnostic(
      `${requests} requests; ${accepted.size} events accepted, ${refused.size} refused; sink RSS now ${(memory.rssBytes / MiB).toFixed(0)} MiB, peak (VmHWM) ${(memory.peakRssBytes / MiB).toFixed(0)} MiB (bound ${PEAK_RSS_BOUND / MiB} MiB)`,
    );
    assert.ok(memory.peakRssBytes < PEAK_RSS_BOUND, `peak RSS ${memory.peakRssBytes} bytes`);
    await assertAlive("the whole run");

    const output = sink.process.output();
    const lines = output.split("\n").filter((line) => line !== "");
    const notJson = lines.filter((line) => {
      try {
        return typeof JSON.parse(line) !== "object";
      } catch {
        return true;
      }
    });
    assert.deepEqual(notJson.slice(0, 3), [], "hostile ids never break a log line (log injection)");
    assert.ok(
      lines.some((line) => line.includes('"msg":"request rejected"')),
      "rejections are logged",
    );
    assertNoSecrets(output, { neo4jPassword: neo.password }, "the sink's log");
  });
});
