import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { formatQueryString, signHttpRequest } from "@cts/shared";
import { manualClock, startSimulator, type ManualClock, type Simulator } from "../src/index.js";
import { postToken, tokenRequest } from "./support/iam.js";

interface CatalogEntry {
  type: string;
  endpoints: { url: string; interface: string; region: string }[];
}
interface TokenBody {
  token: {
    expires_at: string;
    issued_at: string;
    methods: string[];
    project: { id: string };
    user: { domain: { id: string } };
    catalog?: CatalogEntry[];
  };
}
interface KeystoneError {
  error: { code: number; title: string };
}
interface GatewayError {
  error_code: string;
  error_msg: string;
  request_id: string;
}
interface Projects {
  projects: { id: string; domain_id: string }[];
}

let sim: Simulator;
let clock: ManualClock;

before(async () => {
  clock = manualClock(Date.UTC(2025, 0, 15, 12, 0, 0));
  sim = await startSimulator({ seed: 2, clock });
});
after(async () => {
  await sim.close();
});

/** A signed GET, optionally with a different clock or Host than the request really has. */
async function signedGet(
  path: string,
  options: {
    now?: number;
    signAs?: string;
    headers?: Record<string, string>;
    secretKey?: string;
  } = {},
) {
  const url = new URL(`${sim.url}${path}`);
  const signingUrl = new URL(url);
  if (options.signAs !== undefined) signingUrl.host = options.signAs;
  const headers = signHttpRequest(
    {
      method: "GET",
      url: signingUrl,
      headers: { "content-type": "application/json", ...options.headers },
      now: options.now ?? clock.now(),
    },
    {
      accessKey: sim.credentials.accessKey,
      secretKey: options.secretKey ?? sim.credentials.secretKey,
    },
  );
  const response = await fetch(url, { headers });
  const body: unknown = await response.json();
  return { response, body };
}

describe("IAM", () => {
  test("POST /v3/auth/tokens answers 201 with X-Subject-Token and a Keystone v3 token", async () => {
    const { response, body } = await postToken(sim, tokenRequest(sim));
    assert.equal(response.status, 201);
    assert.match(response.headers.get("x-subject-token") ?? "", /^MII[\w-]{200,}$/);
    const { token } = body as TokenBody;
    const catalog = token.catalog ?? [];
    assert.equal(token.expires_at, "2025-01-16T12:00:00.000000Z", "24 h, six fractional digits");
    assert.equal(token.issued_at, "2025-01-15T12:00:00.000000Z");
    assert.deepEqual(token.methods, ["password"]);
    assert.deepEqual(token.project, {
      id: sim.projectId,
      name: sim.credentials.projectName,
      domain: { id: sim.domainId, name: sim.credentials.domainName },
    });
    assert.equal(token.user.domain.id, sim.domainId);
    const urls = new Map(catalog.map((entry) => [entry.type, entry.endpoints[0]?.url]));
    assert.equal(urls.get("cts"), `${sim.url}/v1.0/${sim.projectId}`);
    assert.equal(urls.get("ctsv2"), `${sim.url}/v2.0/${sim.projectId}`);
    assert.equal(urls.get("identity"), `${sim.url}/v3`);
    assert.equal(urls.has("ctsv3"), false, "no ctsv3 entry unless asked for");
    for (const entry of catalog) {
      for (const endpoint of entry.endpoints) {
        assert.equal(endpoint.interface, "public");
        assert.ok(endpoint.region === "eu-de" || endpoint.region === "*");
      }
    }
  });

  test("?nocatalog drops the catalog; scope by project id and user by id work", async () => {
    const { body } = await postToken(
      sim,
      tokenRequest(sim, {
        user: { id: sim.credentials.userId, password: sim.credentials.password },
        scope: { project: { id: sim.projectId } },
      }),
      "?nocatalog=true",
    );
    const { token } = body as TokenBody;
    assert.equal(token.catalog, undefined);
    assert.equal(token.project.id, sim.projectId);
  });

  test("bad credentials, domain or project answer 401 in Keystone's shape; a bad body 400", async () => {
    const { credentials } = sim;
    const cases = [
      tokenRequest(sim, {
        user: {
          name: credentials.username,
          password: "wrong",
          domain: { name: credentials.domainName },
        },
      }),
      tokenRequest(sim, {
        user: {
          name: credentials.username,
          password: credentials.password,
          domain: { name: "OTC-other" },
        },
      }),
      tokenRequest(sim, { user: { name: credentials.username, password: credentials.password } }),
      tokenRequest(sim, { scope: { project: { name: "eu-de_other" } } }),
    ];
    for (const request of cases) {
      const { response, body } = await postToken(sim, request);
      assert.equal(response.status, 401);
      assert.deepEqual(
        { code: (body as KeystoneError).error.code, title: (body as KeystoneError).error.title },
        { code: 401, title: "Unauthorized" },
      );
    }
    const { response } = await postToken(sim, { auth: {} });
    assert.equal(response.status, 400);
  });

  test("issuedTokens() lists every token handed out, expired ones too, and nothing else", async () => {
    const before = sim.issuedTokens();
    assert.equal(before.length, sim.stats().tokensIssued);
    const first = (await postToken(sim, tokenRequest(sim))).response;
    sim.expireTokens();
    const second = (await postToken(sim, tokenRequest(sim))).response;
    await postToken(sim, tokenRequest(sim, { scope: { project: { name: "eu-de_other" } } }));
    const issued = [first, second].map((response) => response.headers.get("x-subject-token"));
    assert.deepEqual(sim.issuedTokens(), [...before, ...issued], "a refused request adds none");
    assert.equal(sim.issuedTokens().length, sim.stats().tokensIssued);
  });

  test("version documents at / and /v3", async () => {
    interface Version {
      id: string;
      status: string;
      links: { href: string }[];
    }
    const v3 = (await (await fetch(`${sim.url}/v3`)).json()) as { version: Version };
    assert.equal(v3.version.status, "stable");
    assert.equal(v3.version.links[0]?.href, `${sim.url}/v3/`);
    const root = await fetch(`${sim.url}/`);
    assert.equal(root.status, 300);
    const versions = (await root.json()) as { versions: { values: Version[] } };
    assert.equal(versions.versions.values[0]?.id, "v3.6");
  });
});

describe("AK/SK", () => {
  test("a signed project lookup and catalog request succeed", async () => {
    const query = formatQueryString([["name", sim.credentials.projectName]]);
    const { response, body } = await signedGet(`/v3/projects?${query}`);
    assert.equal(response.status, 200);
    assert.deepEqual(
      (body as Projects).projects.map((project) => [project.id, project.domain_id]),
      [[sim.projectId, sim.domainId]],
    );
    const none = await signedGet(
      `/v3/projects?${formatQueryString([["name", "eu-de_other project"]])}`,
    );
    assert.deepEqual((none.body as Projects).projects, []);
    const catalog = await signedGet("/v3/auth/catalog", {
      headers: { "x-project-id": sim.projectId },
    });
    assert.equal(catalog.response.status, 200);
    const entries = (catalog.body as { catalog: CatalogEntry[] }).catalog;
    assert.ok(entries.some((entry) => entry.type === "cts"));
  });

  test("the signature is checked against the Host received, the secret and a 15-minute skew", async () => {
    const failures = [
      await signedGet("/v3/auth/catalog", { signAs: `localhost:${new URL(sim.url).port}` }),
      await signedGet("/v3/auth/catalog", { secretKey: "not-the-secret" }),
      await signedGet("/v3/auth/catalog", { now: clock.now() - 16 * 60_000 }),
      await signedGet("/v3/auth/catalog", { now: clock.now() + 16 * 60_000 }),
    ];
    const messages = failures.map(({ response, body }) => {
      const error = body as GatewayError;
      assert.equal(response.status, 401);
      assert.equal(error.error_code, "APIG.0301");
      assert.match(error.request_id, /^[0-9a-f]{32}$/);
      return error.error_msg;
    });
    assert.match(messages[0] ?? "", /verify aksk signature fail/);
    assert.match(messages[1] ?? "", /verify aksk signature fail/);
    assert.match(messages[2] ?? "", /more than 15 minutes/);
    assert.equal(
      (await signedGet("/v3/auth/catalog", { now: clock.now() - 14 * 60_000 })).response.status,
      200,
    );
  });

  test("unsigned and token-less requests are refused", async () => {
    const response = await fetch(`${sim.url}/v3/projects`);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as GatewayError).error_code, "APIG.0301");
  });
});
