import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { createLogger, type AppError, type RetryEvent } from "@cts/shared";
import {
  manualClock,
  offsetClock,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from "@cts/otc_simulator";
import { loadCloudConfig } from "../src/cloud-config/index.js";
import {
  createOtcClient,
  type InvalidTrace,
  type OtcClient,
  type OtcClientOptions,
} from "../src/otc/index.js";
import type { ListedTrace } from "../src/core/ports.js";
import type { TimeWindow } from "../src/core/window.js";

const logger = createLogger({ name: "otc-listing-test", level: "silent" });
const fastRetry = { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5 };
const MINUTE = 60_000;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "otc-listing-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A client for `cloud` (password by default) of a simulator, through a real clouds.yaml. */
async function clientFor(
  sim: Simulator,
  options: Partial<OtcClientOptions> & { cloud?: "simulator" | "simulator-aksk" } = {},
): Promise<OtcClient> {
  const file = join(dir, `clouds-${sim.projectId}-${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(file, sim.cloudsYaml());
  const config = loadCloudConfig(
    { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: options.cloud ?? "simulator" },
    { cwd: dir, home: dir, etc: dir },
  );
  return createOtcClient(config, {
    logger,
    retry: fastRetry,
    now: () => sim.clock.now(),
    ...options,
  });
}

async function listIds(
  client: OtcClient,
  window: TimeWindow,
  tracker = "system",
): Promise<string[]> {
  const ids: string[] = [];
  for await (const { trace } of client.listTraces(window, { tracker })) ids.push(trace.trace_id);
  return ids;
}

/** A simulator (seed 3) for one test, closed when the test ends, however it ends. */
async function simulatorFor(t: TestContext, options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ seed: 3, ...options });
  t.after(() => sim.close());
  return sim;
}

/** A simulator holding `count` traces in the hour before now, all already recorded. */
async function preloaded(t: TestContext, count: number, options: SimulatorOptions = {}) {
  const clock = offsetClock();
  const now = clock.now();
  const window = { from: now - 60 * MINUTE, to: now - MINUTE };
  const sim = await simulatorFor(t, {
    clock,
    preload: { count, ...window, lateFraction: 0 },
    ...options,
  });
  return { sim, clock, window };
}

function assertExactlyOnce(listed: readonly string[], expected: readonly string[]): void {
  assert.equal(new Set(listed).size, listed.length, "no trace is listed twice");
  assert.deepEqual([...listed].sort(), [...expected].sort(), "every trace is listed");
}

describe("listTraces: paging", () => {
  test("1,001 traces page by 200 (6 pages), newest first, each exactly once", async (t) => {
    const { sim, window } = await preloaded(t, 1001);
    for (const cloud of ["simulator", "simulator-aksk"] as const) {
      const client = await clientFor(sim, { cloud });
      const before = sim.stats().requests.cts;
      const listed = await listIds(client, window);
      assert.deepEqual(
        listed,
        sim.traceIdsIn(window),
        `${cloud}: same ids, same order (newest first)`,
      );
      assert.equal(listed.length, 1001);
      assert.equal(sim.stats().requests.cts - before, 6);
    }
  });

  test("bounds are exclusive: traces at exactly from or to are not listed", async (t) => {
    const sim = await simulatorFor(t);
    const now = sim.clock.now();
    const at = (id: string, time: number) => ({
      trace_id: id,
      trace_name: "x",
      time,
      record_time: time,
    });
    sim.addTraces([at("at-from", now - 3000), at("inside", now - 2000), at("at-to", now - 1000)]);
    const client = await clientFor(sim);
    assert.deepEqual(await listIds(client, { from: now - 3000, to: now - 1000 }), ["inside"]);
  });

  test("traces sharing one millisecond are paged without gaps or repeats", async (t) => {
    const sim = await simulatorFor(t);
    const time = sim.clock.now() - 5000;
    const ids = sim.addTraces(
      Array.from({ length: 450 }, (_, index) => ({
        trace_id: `same-ms-${String(index).padStart(3, "0")}`,
        time,
        record_time: time,
      })),
    );
    const client = await clientFor(sim);
    assertExactlyOnce(await listIds(client, { from: time - 1, to: time + 1 }), ids);
  });
});

describe("listTraces: failures on the way", () => {
  test("429 and 500 on every third request: every trace still arrives exactly once", async (t) => {
    const { sim, window } = await preloaded(t, 2000, {
      faults: { every: 3, kinds: ["throttle", "error"], retryAfterSeconds: 0 },
    });
    const retries: RetryEvent[] = [];
    const client = await clientFor(sim, {
      retry: { ...fastRetry, onRetry: (event) => retries.push(event) },
    });
    const listed = await listIds(client, window);
    assertExactlyOnce(listed, sim.traceIdsIn(window));
    assert.ok(sim.stats().faultsInjected >= 3, `faults injected: ${sim.stats().faultsInjected}`);
    assert.equal(retries.length, sim.stats().faultsInjected, "each fault cost exactly one retry");
  });

  test("a 429's Retry-After is honoured", async (t) => {
    const { sim, window } = await preloaded(t, 10, {
      faults: { every: 1, kinds: ["throttle"], retryAfterSeconds: 1, limit: 1 },
    });
    const delays: number[] = [];
    const client = await clientFor(sim, {
      retry: { baseDelayMs: 1, maxDelayMs: 5, onRetry: (event) => delays.push(event.delayMs) },
    });
    const started = Date.now();
    assert.equal((await listIds(client, window)).length, 10);
    assert.deepEqual(delays, [1000]);
    assert.ok(Date.now() - started >= 1000);
  });

  test("slow answers time out, dropped connections and 503s are retried; nothing is lost", async (t) => {
    const { sim, window } = await preloaded(t, 1000, {
      faults: { every: 2, kinds: ["slow", "reset", "unavailable"], slowMs: 1500 },
    });
    const reasons: unknown[] = [];
    const client = await clientFor(sim, {
      requestTimeoutMs: 300,
      retry: {
        ...fastRetry,
        onRetry: (event) => reasons.push((event.error as AppError).details["reason"]),
      },
    });
    assertExactlyOnce(await listIds(client, window), sim.traceIdsIn(window));
    assert.ok(
      reasons.includes("timeout") &&
        reasons.includes("network") &&
        reasons.includes("server-error"),
      String(reasons),
    );
  });

  test("a token expiring mid-listing is renewed and the same page is fetched again", async (t) => {
    const { sim, window } = await preloaded(t, 1000);
    const client = await clientFor(sim);
    assert.equal(sim.stats().tokensIssued, 1);
    const listed: string[] = [];
    for await (const { trace } of client.listTraces(window, { tracker: "system" })) {
      listed.push(trace.trace_id);
      if (listed.length === 300) sim.expireTokens(); // mid-page 2: page 3's request meets the 401
    }
    assertExactlyOnce(listed, sim.traceIdsIn(window));
    assert.equal(sim.stats().tokensIssued, 2);
  });

  test("the expire-token fault (401 APIG.0307 on a request) costs one renewal, not the page", async (t) => {
    const { sim, window } = await preloaded(t, 1000, {
      faults: { every: 2, kinds: ["expire-token"], limit: 2 },
    });
    const client = await clientFor(sim);
    assertExactlyOnce(await listIds(client, window), sim.traceIdsIn(window));
    assert.equal(sim.stats().tokensIssued, 3);
  });

  test("a token is renewed before its expiry, without a 401", async (t) => {
    const { sim, clock, window } = await preloaded(t, 10, { tokenTtlMs: 60 * MINUTE });
    const client = await clientFor(sim);
    assert.equal((await listIds(client, window)).length, 10);
    // Inside the token's last tenth: still valid on the server, so only a proactive renewal
    // issues a second token.
    clock.advance(55 * MINUTE);
    assert.equal((await listIds(client, window)).length, 10);
    assert.equal(sim.stats().tokensIssued, 2);
  });

  test("AK/SK signatures keep working when a request is repeated", async (t) => {
    const { sim, window } = await preloaded(t, 600, { faults: { every: 2, kinds: ["error"] } });
    const client = await clientFor(sim, { cloud: "simulator-aksk" });
    assertExactlyOnce(await listIds(client, window), sim.traceIdsIn(window));
  });
});

describe("listTraces: what CTS returns", () => {
  test("invalid traces are not yielded; they are reported with id and reason, and counted", async (t) => {
    const sim = await simulatorFor(t);
    const now = sim.clock.now();
    const time = now - 10_000;
    sim.addTraces([
      { trace_id: "good-1", time, record_time: time },
      { trace_id: "bad-name", trace_name: 42, time: time - 1, record_time: time },
      { trace_id: "bad-user", user: "not json", time: time - 2, record_time: time },
      { trace_id: "good-2", time: time - 3, record_time: time },
    ]);
    const invalid: InvalidTrace[] = [];
    const client = await clientFor(sim, { onInvalidTrace: (reason) => invalid.push(reason) });
    assert.deepEqual(await listIds(client, { from: time - 100, to: now }), ["good-1", "good-2"]);
    assert.deepEqual(
      invalid.map((reason) => reason.traceId),
      ["bad-name", "bad-user"],
    );
    assert.match(invalid[0]?.reason ?? "", /^trace_name: /);
    assert.match(invalid[1]?.reason ?? "", /^user: /);
    assert.equal(client.invalidTraces, 2);
  });

  test("the documented number/object forms and unknown fields pass, and raw stays exactly as sent", async (t) => {
    const sim = await simulatorFor(t);
    const time = sim.clock.now() - 10_000;
    const raw = {
      trace_id: "documented-form",
      trace_name: "updatePort",
      trace_rating: "warning",
      trace_type: "ApiCall",
      code: 400,
      request: { port: { name: "p1" } },
      response: { code: "VPC.0514", message: "Update port fail." },
      user: null,
      source_ip: null,
      message: null,
      time,
      record_time: time,
      operation_id: "huawei-only-field",
    };
    sim.addTraces([raw]);
    const client = await clientFor(sim);
    const listed: ListedTrace[] = [];
    for await (const item of client.listTraces(
      { from: time - 1, to: time + 1 },
      { tracker: "system" },
    ))
      listed.push(item);
    const [only, ...rest] = listed;
    assert.ok(only !== undefined && rest.length === 0);
    assert.deepEqual(only.raw, raw);
    assert.equal(only.trace.code, 400);
  });

  test("an unknown tracker fails with CTS's error code and message", async (t) => {
    const sim = await simulatorFor(t);
    const now = sim.clock.now();
    const client = await clientFor(sim);
    await assert.rejects(
      listIds(client, { from: now - MINUTE, to: now }, "nosuch"),
      (error: AppError) => {
        assert.equal(error.code, "CTS_API_REJECTED");
        assert.equal(error.retryable, false);
        assert.match(
          error.message,
          /CTS trace list failed: 404 CTS.0214: The tracker nosuch does not exist. \(GET http:\/\/127.0.0.1:\d+\/v3\/\w+\/traces\); check CTS_TRACKER \("nosuch"\)/,
        );
        return true;
      },
    );
  });

  test("a window at the 7-day retention edge is clamped on every page, not refused as the edge moves", async (t) => {
    const clock = manualClock(Date.parse("2026-11-20T10:00:00Z"));
    const sim = await simulatorFor(t, { clock });
    const now = clock.now();
    const ids = Array.from({ length: 300 }, (_, i) => `edge-${i}`);
    sim.addTraces(
      ids.map((id, i) => ({
        trace_id: id,
        trace_name: "login",
        time: now - 60 * MINUTE + i * 1_000,
        record_time: now - 60 * MINUTE + i * 1_000,
      })),
    );
    const client = await clientFor(sim, { pageSize: 50 });
    // Where a checkpoint a week old puts the window: just inside retention, when planned.
    const window = { from: now - 7 * 24 * 60 * MINUTE + 61_000, to: now };
    const listed: string[] = [];
    for await (const { trace } of client.listTraces(window, { tracker: "system" })) {
      listed.push(trace.trace_id);
      // Each page takes a minute: the retention edge passes the planned from on page 3.
      if (listed.length % 50 === 0) clock.advance(MINUTE);
    }
    assertExactlyOnce(listed, ids);
    // Unclamped, the simulator refuses a from older than retention, as CTS does.
    const tooOld = new URL(`${sim.ctsUrl}/traces`);
    tooOld.searchParams.set("from", String(window.from));
    tooOld.searchParams.set("to", String(window.to));
    const token = sim.issuedTokens().at(-1) ?? "";
    const refused = await fetch(tooOld, { headers: { "x-auth-token": token } });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /CTS.0300/);
  });

  test("late traces appear only once recorded", async (t) => {
    const clock = offsetClock();
    const now = clock.now();
    const window = { from: now - 30 * MINUTE, to: now };
    const sim = await simulatorFor(t, {
      clock,
      preload: { count: 300, ...window, lateFraction: 1 },
    });
    const client = await clientFor(sim);
    const early = await listIds(client, window);
    clock.advance(11 * MINUTE);
    const later = await listIds(client, window);
    assert.ok(early.length < 300, `some traces are not recorded yet (${early.length} listed)`);
    assert.equal(later.length, 300);
    assert.ok(early.every((id) => later.includes(id)));
  });

  test("aborting stops the listing", async (t) => {
    const { sim, window } = await preloaded(t, 1000, {
      faults: { every: 1, kinds: ["slow"], slowMs: 5000 },
    });
    const client = await clientFor(sim);
    const controller = new AbortController();
    const reason = new Error("shutting down");
    setTimeout(() => {
      controller.abort(reason);
    }, 100);
    const started = Date.now();
    await assert.rejects(
      (async () => {
        for await (const _ of client.listTraces(window, {
          tracker: "system",
          signal: controller.signal,
        })) {
          // consume
        }
      })(),
      (error) => error === reason,
    );
    assert.ok(Date.now() - started < 4000, "no waiting for the slow answer");
  });
});
