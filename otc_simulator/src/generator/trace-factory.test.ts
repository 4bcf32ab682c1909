import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CtsTrace, type RawCtsTrace } from "@cts/shared";
import { domainUsers, identityFor } from "../identity.js";
import { ODD_NAMES } from "./odd-names.js";
import { createTraceFactory, type TraceFactoryOptions } from "./trace-factory.js";

const identity = identityFor(5);
const base: TraceFactoryOptions = {
  seed: 5,
  identity,
  users: domainUsers(5, identity),
  lateFraction: 0.05,
  lateMinutes: [2, 10],
  lagMs: [200, 3000],
};
const start = Date.UTC(2025, 5, 1);

function generate(count: number, options: Partial<TraceFactoryOptions> = {}): RawCtsTrace[] {
  const factory = createTraceFactory({ ...base, ...options });
  return Array.from({ length: count }, (_, seq) =>
    factory.render(factory.record(seq, start + seq * 250)),
  );
}

describe("generated traffic", () => {
  const traces = generate(20_000);

  test("is deterministic per seed and differs between seeds", () => {
    assert.deepEqual(generate(200), traces.slice(0, 200));
    assert.notDeepEqual(generate(200, { seed: 6 }), traces.slice(0, 200));
  });

  test("every trace is a valid CTS trace with a unique v1-UUID id", () => {
    for (const raw of traces)
      assert.ok(CtsTrace.safeParse(raw).success, JSON.stringify(raw).slice(0, 300));
    const ids = new Set(traces.map((raw) => raw["trace_id"]));
    assert.equal(ids.size, traces.length);
    assert.match(
      String(traces[0]?.["trace_id"]),
      /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  test("has the realistic mix the issue asks for", () => {
    const count = (predicate: (raw: RawCtsTrace) => boolean) => traces.filter(predicate).length;
    const share = (predicate: (raw: RawCtsTrace) => boolean) => count(predicate) / traces.length;
    const failedLogins = count(
      (raw) => raw["trace_name"] === "login" && raw["trace_rating"] === "warning",
    );
    assert.ok(failedLogins > 100, `failed logins: ${failedLogins}`);
    assert.ok(
      count((raw) => raw["trace_name"] === "login" && raw["trace_rating"] === "normal") >
        failedLogins,
    );
    for (const name of [
      "createUser",
      "createCredential",
      "deleteCredential",
      "createServer",
      "createSecurityGroupRule",
      "createBucket",
      "updateTracker",
    ]) {
      assert.ok(count((raw) => raw["trace_name"] === name) > 0, name);
    }
    const system = traces.filter((raw) => raw["trace_type"] === "SystemAction");
    assert.ok(system.length > 1000);
    assert.ok(
      system.every(
        (raw) => raw["user"] === null && (raw["source_ip"] === null || raw["source_ip"] === ""),
      ),
    );
    assert.ok(
      count((raw) => ODD_NAMES.includes(String(raw["resource_name"]))) > 500,
      "odd resource names",
    );
    assert.ok(
      count((raw) => /[^\p{ASCII}]/u.test(String(raw["resource_name"]))) > 100,
      "non-ASCII names",
    );
    assert.ok(
      count((raw) => JSON.stringify(raw["request"]).length > 16_000) > 20,
      "large request bodies",
    );
    const documented = share((raw) => typeof raw["code"] === "number");
    assert.ok(documented > 0.03 && documented < 0.07, `number/object form share ${documented}`);
    assert.ok(
      traces.every((raw) => typeof raw["code"] === "number" || typeof raw["response"] === "string"),
    );
  });

  test("resources recur across traces, so the graph has shared nodes", () => {
    const servers = new Set(
      traces.filter((raw) => raw["resource_type"] === "ecs").map((raw) => raw["resource_id"]),
    );
    const serverTraces = traces.filter((raw) => raw["resource_type"] === "ecs").length;
    assert.ok(
      servers.size < 100 && serverTraces > 1000,
      `${servers.size} servers in ${serverTraces} traces`,
    );
  });

  test("a mix and a late share are honoured", () => {
    const iamOnly = generate(500, { mix: { iam: 1, ecs: 0, vpc: 0, obs: 0, cts: 0, system: 0 } });
    assert.ok(iamOnly.every((raw) => raw["service_type"] === "IAM"));
    const factory = createTraceFactory({ ...base, lateFraction: 0.5 });
    const delays = Array.from({ length: 2000 }, (_, seq) => {
      const record = factory.record(seq, start);
      return record.recordTime - record.time;
    });
    const late = delays.filter((delay) => delay >= 2 * 60_000).length;
    assert.ok(late > 850 && late < 1150, `late: ${late}`);
    assert.ok(delays.every((delay) => delay >= 200 && delay <= 10 * 60_000));
  });
});
