import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { manualClock, startSimulator, type Simulator } from "../src/index.js";
import { postToken, tokenRequest } from "./support/iam.js";

interface TokenBody {
  token: {
    project: { id: string; name: string };
    catalog: { type: string; endpoints: { url: string; region: string }[] }[];
  };
}

let sim: Simulator;

before(async () => {
  const clock = manualClock(Date.UTC(2025, 0, 15, 12, 0, 0));
  sim = await startSimulator({
    seed: 5,
    clock,
    extraProjects: [{ name: "eu-de_analytics" }, { name: "eu-nl_backup" }],
  });
});
after(async () => {
  await sim.close();
});

async function tokenFor(project: { name?: string; id?: string }) {
  const { response, token, body } = await postToken(sim, tokenRequest(sim, { scope: { project } }));
  assert.equal(response.status, 201);
  return { token, body: body as TokenBody };
}

describe("a simulator with several projects in several regions", () => {
  test("lists three projects, each with its own id, region and CTS endpoint", () => {
    assert.deepEqual(
      sim.projects.map((p) => [p.name, p.region]),
      [
        [sim.credentials.projectName, "eu-de"],
        ["eu-de_analytics", "eu-de"],
        ["eu-nl_backup", "eu-nl"],
      ],
    );
    assert.equal(new Set(sim.projects.map((p) => p.id)).size, 3);
    assert.equal(sim.projects[0]?.id, sim.projectId);
  });

  test("a token scoped to a project by name carries that project and its region's catalog", async () => {
    const backup = sim.projects[2];
    assert.ok(backup !== undefined);
    const { body } = await tokenFor({ name: "eu-nl_backup" });
    assert.equal(body.token.project.id, backup.id);
    const endpoint = body.token.catalog.find((entry) => entry.type === "cts")?.endpoints[0];
    assert.ok(endpoint !== undefined);
    assert.equal(endpoint.region, "eu-nl");
    assert.match(endpoint.url, new RegExp(`/v1.0/${backup.id}$`));
  });

  test("GET /v3/auth/projects lists every project the user can scope to", async () => {
    const { token } = await tokenFor({ id: sim.projectId });
    const response = await fetch(`${sim.iamUrl}/auth/projects`, {
      headers: { "x-auth-token": token },
    });
    const { projects } = (await response.json()) as { projects: { id: string; name: string }[] };
    assert.deepEqual(projects.map((p) => p.name).sort(), sim.projects.map((p) => p.name).sort());
  });

  test("each project serves its own traces, and only to a token scoped to it", async () => {
    const [main, analytics] = sim.projects;
    assert.ok(main !== undefined && analytics !== undefined);
    const now = sim.clock.now();
    sim.addTraces([{ trace_id: "in-main", trace_name: "x", time: now - 1000 }]);
    sim.addTraces([{ trace_id: "in-analytics", trace_name: "x", time: now - 1000 }], analytics.id);
    const list = async (project: typeof main, token: string) => {
      const response = await fetch(
        `${project.ctsUrl}/traces?limit=10&from=${now - 60_000}&to=${now}`,
        { headers: { "x-auth-token": token } },
      );
      return {
        status: response.status,
        ids: response.ok
          ? ((await response.json()) as { traces: { trace_id: string }[] }).traces.map(
              (t) => t.trace_id,
            )
          : [],
      };
    };
    const mainToken = (await tokenFor({ id: main.id })).token;
    const analyticsToken = (await tokenFor({ name: analytics.name })).token;
    assert.deepEqual(await list(main, mainToken), { status: 200, ids: ["in-main"] });
    assert.deepEqual(await list(analytics, analyticsToken), { status: 200, ids: ["in-analytics"] });
    assert.equal((await list(analytics, mainToken)).status, 403, "the scope decides");
    assert.deepEqual(sim.traceIdsIn({ from: now - 60_000, to: now }, analytics.id), [
      "in-analytics",
    ]);
  });
});
