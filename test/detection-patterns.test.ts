import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { batchMessage, CtsTrace, traceToCloudEvent } from "@cts/shared";
import { loadRules, runRule } from "@cts/detections";
import { sinkForSuite } from "@cts/neo4j_sink/testing";
import { startSimulator, type Simulator } from "@cts/otc_simulator";

// The simulator serves every rule's firing pattern; through the real sink, every rule fires.
const suite = sinkForSuite();
let sim: Simulator;

before(async () => {
  sim = await startSimulator({ seed: 7, detections: "all" });
});
after(async () => {
  await sim.close();
});

test("pnpm simulator --detections all: every rule fires on what the simulator serves", async () => {
  const patterns = sim.detections!;
  const now = Date.now();
  assert.ok(patterns.since <= now - 15 * 3_600_000 && patterns.since > now - 40 * 3_600_000);
  // What CTS would list over its 7 days: the patterns, nothing in the future.
  const ids = sim.traceIdsIn({ from: now - 7 * 86_400_000, to: now + 1 });
  assert.equal(ids.length, patterns.traces.length);
  const origin = {
    source: sim.ctsUrl,
    region: sim.region,
    projectId: sim.projectId,
    domainId: sim.domainId,
  };
  const events = ids.map((id) => {
    const raw = sim.trace(id)!;
    assert.ok(id.startsWith(`${sim.projectId.slice(0, 8)}-`), id);
    assert.ok(!JSON.stringify(raw).includes("dom-home"), "the fixtures' home account is replaced");
    return traceToCloudEvent(CtsTrace.parse(raw), raw, { origin });
  });
  const message = batchMessage(events);
  const answer = await fetch(suite.sink.url, {
    method: "POST",
    headers: message.headers,
    body: message.body,
  });
  assert.equal(answer.status, 202, await answer.text());

  const silent: string[] = [];
  for (const rule of loadRules()) {
    const findings = await runRule(suite.neo.driver, rule, {
      window: { since: new Date(patterns.since), until: new Date(now + 1) },
    });
    if (findings.length === 0) silent.push(rule.id);
  }
  assert.deepEqual(silent, [], "rules that did not fire on the simulator's patterns");
  assert.equal(patterns.rules.length, loadRules().length);
});
