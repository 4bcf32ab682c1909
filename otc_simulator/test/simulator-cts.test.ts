import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { formatQueryString, type RawCtsTrace } from "@cts/shared";
import { manualClock, startSimulator, type ManualClock, type Simulator } from "../src/index.js";
import { postToken, tokenRequest } from "./support/iam.js";

interface Page {
  traces: RawCtsTrace[];
  meta_data: { count: number; marker: string | null };
}
interface ErrorBody {
  error_code: string;
  error_msg: string;
}

const MINUTE = 60_000;
const START = Date.UTC(2025, 0, 15, 12, 0, 0);

let sim: Simulator;
let clock: ManualClock;
let token: string;

async function get(path: string, query: [string, string][] = [], target = sim, auth = token) {
  const url = `${target.url}${path}${query.length === 0 ? "" : `?${formatQueryString(query)}`}`;
  const response = await fetch(url, { headers: { "x-auth-token": auth } });
  const body: unknown = await response.json();
  return { response, body };
}

async function page(query: [string, string][], path = `/v3/${sim.projectId}/traces`) {
  const { response, body } = await get(path, query);
  assert.equal(response.status, 200, JSON.stringify(body));
  return body as Page;
}

async function failure(query: [string, string][], path = `/v3/${sim.projectId}/traces`) {
  const { response, body } = await get(path, query);
  return { status: response.status, ...(body as ErrorBody) };
}

const trace = (id: string, time: number, extra: RawCtsTrace = {}): RawCtsTrace => ({
  trace_id: id,
  trace_name: "createServer",
  trace_rating: "normal",
  trace_type: "ApiCall",
  service_type: "ECS",
  resource_type: "ecs",
  resource_name: `server-${id}`,
  user: { id: "u1", name: "alice", domain: { id: "d1", name: "OTC1" } },
  time,
  record_time: time + 1000,
  ...extra,
});

before(async () => {
  clock = manualClock(START);
  sim = await startSimulator({ seed: 4, clock });
  sim.addTraces([
    trace("t1", START - 50 * MINUTE),
    trace("t2", START - 40 * MINUTE, {
      trace_rating: "warning",
      user: { id: "u2", name: "bob", domain: null },
    }),
    trace("t3", START - 30 * MINUTE, {
      service_type: "VPC",
      resource_type: "eip",
      resource_name: "Prüfserver 東京",
    }),
    trace("t4", START - 20 * MINUTE),
    trace("late", START - 10 * MINUTE, { record_time: START + 5 * MINUTE }),
  ]);
  token = (await postToken(sim, tokenRequest(sim))).token;
});
after(async () => {
  await sim.close();
});

describe("CTS v3 trace list", () => {
  test("defaults: the last hour, limit 10, newest first, marker null at the end, late traces hidden", async () => {
    const body = await page([]);
    assert.deepEqual(
      body.traces.map((t) => t["trace_id"]),
      ["t4", "t3", "t2", "t1"],
    );
    assert.deepEqual(body.meta_data, { count: 4, marker: null });
  });

  test("paging: marker = the last trace id while more remain", async () => {
    const first = await page([["limit", "3"]]);
    assert.deepEqual(first.meta_data, { count: 3, marker: "t2" });
    const second = await page([
      ["limit", "3"],
      ["next", "t2"],
    ]);
    assert.deepEqual(
      second.traces.map((t) => t["trace_id"]),
      ["t1"],
    );
    assert.equal(second.meta_data.marker, null);
  });

  test("filters by field and user; trace_id overrides everything else", async () => {
    const ids = async (query: [string, string][]) =>
      (await page(query)).traces.map((t) => t["trace_id"]);
    assert.deepEqual(await ids([["service_type", "VPC"]]), ["t3"]);
    assert.deepEqual(await ids([["resource_name", "Prüfserver 東京"]]), ["t3"]);
    assert.deepEqual(await ids([["trace_rating", "warning"]]), ["t2"]);
    assert.deepEqual(await ids([["user", "bob"]]), ["t2"]);
    assert.deepEqual(
      await ids([
        ["trace_id", "t1"],
        ["service_type", "VPC"],
        ["from", String(START - 1000)],
      ]),
      ["t1"],
    );
  });

  test("query errors answer 400 CTS.0300; an unknown tracker 404 CTS.0214", async () => {
    for (const query of [
      [["limit", "201"]],
      [["limit", "0"]],
      [["from", "yesterday"]],
      [["trace_type", "data"]],
      [["next", "no-such-trace"]],
      [["from", String(START - 8 * 24 * 60 * MINUTE)]],
    ] as [string, string][][]) {
      const body = await failure(query);
      assert.equal(body.status, 400, JSON.stringify(query));
      assert.equal(body.error_code, "CTS.0300");
      assert.match(body.error_msg, /^Query failed\./);
    }
    const tracker = await failure([["tracker_name", "audit"]]);
    assert.deepEqual([tracker.status, tracker.error_code], [404, "CTS.0214"]);
  });

  test("late traces appear once recorded", async () => {
    clock.advance(5 * MINUTE);
    try {
      const body = await page([["from", String(START - 15 * MINUTE)]]);
      assert.deepEqual(
        body.traces.map((t) => t["trace_id"]),
        ["late"],
      );
    } finally {
      clock.set(START);
    }
  });

  test("an expired token gets 401 APIG.0307; another project 403", async () => {
    const other = await startSimulator({ seed: 99, clock });
    try {
      const foreign = await get(`/v3/${other.projectId}/traces`);
      assert.equal(foreign.response.status, 403);
      clock.advance(24 * 60 * MINUTE);
      const expired = await get(`/v3/${sim.projectId}/traces`);
      assert.equal(expired.response.status, 401);
      assert.deepEqual(
        [(expired.body as ErrorBody).error_code, (expired.body as ErrorBody).error_msg],
        ["APIG.0307", "The token must be updated."],
      );
    } finally {
      clock.set(START);
      await other.close();
    }
  });
});

describe("CTS v1.0 and v2.0 trace paths", () => {
  test("v1 sends user as JSON text; v2 as an object and accepts trace_status", async () => {
    const v1 = await page([], `/v1.0/${sim.projectId}/system/trace`);
    assert.equal(typeof v1.traces[0]?.["user"], "string");
    assert.deepEqual(JSON.parse(String(v1.traces[0]?.["user"])), {
      id: "u1",
      name: "alice",
      domain: { id: "d1", name: "OTC1" },
    });
    const v2 = await page([["trace_status", "warning"]], `/v2.0/${sim.projectId}/system/trace`);
    assert.deepEqual(
      v2.traces.map((t) => t["trace_id"]),
      ["t2"],
    );
    assert.equal(typeof v2.traces[0]?.["user"], "object");
    const unknown = await failure([], `/v2.0/${sim.projectId}/audit/trace`);
    assert.equal(unknown.status, 404);
  });
});

describe("fault injection", () => {
  test("every n-th CTS request fails by rotation; IAM requests do not count", async () => {
    sim.setFaults({ every: 2, kinds: ["throttle", "error", "unavailable"], retryAfterSeconds: 7 });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let index = 0; index < 6; index++) {
        const { response } = await get(`/v3/${sim.projectId}/traces`);
        if (response.status === 429) retryAfter = response.headers.get("retry-after");
        statuses.push(response.status);
        await fetch(sim.iamUrl); // IAM scope: not counted
      }
      assert.deepEqual(statuses, [200, 429, 200, 500, 200, 503]);
      assert.equal(retryAfter, "7");
    } finally {
      sim.setFaults(undefined);
    }
  });

  test("reset drops the connection without an answer", async () => {
    sim.setFaults({ every: 1, kinds: ["reset"], limit: 1 });
    await assert.rejects(get(`/v3/${sim.projectId}/traces`), TypeError);
    assert.equal(
      (await get(`/v3/${sim.projectId}/traces`)).response.status,
      200,
      "limit 1: only one fault",
    );
  });
});

describe("live traffic", () => {
  test("a seeded rate generates the same traces for the same seed and clock", async () => {
    const start = START;
    const run = async () => {
      const ownClock = manualClock(start);
      const live = await startSimulator({
        seed: 21,
        clock: ownClock,
        generator: { rate: 10, lateFraction: 0 },
      });
      try {
        ownClock.advance(60_000);
        return live.traceIdsIn({ from: start - 1, to: start + 60_000 });
      } finally {
        await live.close();
      }
    };
    const first = await run();
    assert.ok(
      first.length > 480 && first.length < 720,
      `about 600 traces in a minute at 10/s: ${first.length}`,
    );
    assert.deepEqual(await run(), first);
  });

  test("traceIdsIn and servedTraceIds let a test compare what exists with what was served", () => {
    const window = { from: START - 60 * MINUTE, to: START };
    const existing = sim.traceIdsIn(window);
    assert.deepEqual(existing, ["t4", "t3", "t2", "t1"]);
    for (const id of existing) assert.ok(sim.servedTraceIds().has(id));
    assert.equal(sim.trace("t3")?.["resource_name"], "Prüfserver 東京");
  });
});
