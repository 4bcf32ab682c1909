/**
 * One exporter, several projects in several regions (CTS_PROJECTS): the simulator serves three
 * projects of one account; the exporter polls each with its own window, checkpoint entry and
 * tenant/region extensions, and a project whose events the sink refuses does not hold up the
 * others. In-process on the simulator's manual clock.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT } from "@cts/cts_exporter";
import { manualClock, startSimulator, type ManualClock, type Simulator } from "@cts/otc_simulator";
import type { RawCtsTrace } from "@cts/shared";
import { duplicateIds, startEventReceiver, type EventReceiver } from "./support/event-receiver.js";
import { runExporterOnce } from "./support/run-once.js";

const MIN = 60_000;

interface StateFileV2 {
  version: number;
  projects: { source: string; checkpoint: number | null }[];
}

describe("one exporter, several projects and regions (CTS_PROJECTS)", () => {
  let sim: Simulator;
  let clock: ManualClock;
  let receiver: EventReceiver;
  let env: Record<string, string>;
  let stateFile: string;

  before(async () => {
    clock = manualClock(Date.parse("2026-11-20T10:00:00Z"));
    sim = await startSimulator({
      clock,
      seed: 21,
      extraProjects: [{ name: "eu-de_analytics" }, { name: "eu-nl_backup" }],
    });
    receiver = await startEventReceiver();
    const dir = await mkdtemp(join(tmpdir(), "cts-projects-"));
    const clouds = join(dir, "clouds.yaml");
    await writeFile(clouds, sim.cloudsYaml({ cloud: "sim" }));
    stateFile = join(dir, "state.json");
    env = {
      OS_CLIENT_CONFIG_FILE: clouds,
      OS_CLOUD: "sim",
      K_SINK: receiver.url,
      CTS_FROM: "5",
      CTS_PROJECTS: "all",
      CTS_STATE_FILE: stateFile,
    };
  });
  after(async () => {
    await receiver.close();
    await sim.close();
  });

  async function cycle(extraEnv: Record<string, string> = {}): Promise<number> {
    return runExporterOnce({ env: { ...env, ...extraEnv }, clock });
  }

  /** Three traces per project, by the same user from the same address. */
  function addTraces(round: string): Map<string, string[]> {
    const byProject = new Map<string, string[]>();
    const now = clock.now();
    for (const project of sim.projects) {
      const ids = [0, 1, 2].map((i) => `${round}-${project.name}-${i}`);
      const traces: RawCtsTrace[] = ids.map((id, i) => ({
        trace_id: id,
        trace_name: "createServer",
        trace_type: "ApiCall",
        service_type: "ECS",
        resource_type: "server",
        resource_id: "shared-server",
        source_ip: "192.0.2.44",
        time: now - 3 * MIN + i * 1_000,
        record_time: now - 3 * MIN + i * 1_000 + 500,
        user: { id: "u-shared", name: "alice", domain: { id: sim.domainId, name: "OTC" } },
      }));
      sim.addTraces(traces, project.id);
      byProject.set(project.id, ids);
    }
    return byProject;
  }

  test("all: every project polled with its own tenant, region and checkpoint; a refused project holds up only itself", async () => {
    assert.equal(sim.projects.length, 3);
    const backup = sim.projects.find((p) => p.name === "eu-nl_backup");
    assert.ok(backup !== undefined);
    let refuseBackup = true;
    receiver.answer = (event) =>
      refuseBackup && event.headers["ce-tenant"] === backup.id
        ? { status: 401, body: '{"error":"not this tenant"}' }
        : { status: 202 };
    const round1 = addTraces("r1");
    clock.advance(MIN);
    assert.equal(await cycle(), EXIT.undelivered, "the refused project makes --once exit 1");

    for (const project of sim.projects) {
      const ids = round1.get(project.id) ?? [];
      const arrived = receiver.accepted.filter((e) => ids.includes(e.id));
      if (project.id === backup.id) {
        assert.deepEqual(arrived, [], "nothing of the refused project was stored");
        continue;
      }
      assert.equal(arrived.length, 3, `${project.name}: all three traces`);
      for (const event of arrived) {
        assert.equal(event.headers["ce-tenant"], project.id);
        assert.equal(event.headers["ce-region"], project.region);
        assert.equal(event.headers["ce-source"], project.ctsUrl);
      }
    }
    const state = JSON.parse(await readFile(stateFile, "utf8")) as StateFileV2;
    assert.equal(state.version, 2);
    assert.equal(state.projects.length, 3, "one checkpoint entry per project");
    for (const entry of state.projects) {
      const isBackup: boolean = entry.source === backup.ctsUrl;
      assert.equal(entry.checkpoint === null, isBackup, `${entry.source}: checkpoint`);
    }

    refuseBackup = false;
    clock.advance(MIN);
    assert.equal(await cycle(), EXIT.ok);
    const backupEvents = receiver.accepted.filter((e) =>
      (round1.get(backup.id) ?? []).includes(e.id),
    );
    assert.equal(backupEvents.length, 3, "the backup project caught up from its own checkpoint");
    assert.ok(backupEvents.every((e) => e.headers["ce-region"] === "eu-nl"));
    assert.deepEqual(duplicateIds(receiver.accepted), [], "nothing twice");
  });

  test("a list of names and ids polls exactly those projects", async () => {
    receiver.accepted.length = 0;
    const [, analytics, backup] = sim.projects;
    assert.ok(analytics !== undefined && backup !== undefined);
    const round2 = addTraces("r2");
    clock.advance(MIN);
    const dir = await mkdtemp(join(tmpdir(), "cts-projects-list-"));
    const exit = await cycle({
      CTS_PROJECTS: `${analytics.name}, ${backup.id}`,
      CTS_STATE_FILE: join(dir, "state.json"),
    });
    assert.equal(exit, EXIT.ok);
    const tenants = new Set(
      receiver.accepted
        .filter((e) => e.id.startsWith("r2-"))
        .map((e) => String(e.headers["ce-tenant"])),
    );
    assert.deepEqual([...tenants].sort(), [analytics.id, backup.id].sort());
    assert.equal(
      receiver.accepted.filter((e) => e.id.startsWith("r2-")).length,
      (round2.get(analytics.id)?.length ?? 0) + (round2.get(backup.id)?.length ?? 0),
    );
  });
});
