import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { binaryMessage, ErrorCode } from "@cts/shared";
import {
  freshNeo4j,
  httpPost,
  startOidcIssuer,
  type OidcIssuer,
  type TestNeo4j,
} from "@cts/devkit";
import type { RunningSink, StartSinkConfig } from "../src/index.js";
import { sinkConfigFromEnv } from "../src/config.js";
import { startTestSink } from "../src/testing.js";
import { count, eventFor, rawTrace } from "./helpers.js";

const AUDIENCE = "sinks.knative.dev/sink/cts/neo4j-sink";

function withToken(id: string, token: string | undefined, scheme = "Bearer") {
  const message = binaryMessage(eventFor(rawTrace({ trace_id: id })));
  return {
    headers: {
      ...message.headers,
      ...(token === undefined ? {} : { authorization: `${scheme} ${token}` }),
    },
    body: message.body,
  };
}

/**
 * A sink on a fresh database that requires tokens from a fresh local issuer, for the enclosing
 * suite: started in its `before`, closed in its `after`.
 */
function sinkRequiringTokens(overrides: Partial<StartSinkConfig> = {}) {
  const ctx = {} as { neo: TestNeo4j; issuer: OidcIssuer; sink: RunningSink };
  before(async () => {
    ctx.neo = await freshNeo4j();
    ctx.issuer = await startOidcIssuer();
    ctx.sink = await startTestSink(ctx.neo, {
      ...overrides,
      senderIdentity: { issuer: ctx.issuer.issuer, audience: AUDIENCE, jwksUri: undefined },
    });
  });
  after(async () => {
    await ctx.sink.close();
    await ctx.issuer.close();
    await ctx.neo.close();
  });
  return ctx;
}

describe("sender identity: SINK_OIDC_ISSUER and SINK_OIDC_AUDIENCE (real Neo4j, local issuer)", () => {
  const ctx = sinkRequiringTokens();

  const stored = (id: string) =>
    count(ctx.neo.driver, "MATCH (a:Action {id: $id}) RETURN count(a) AS n", { id });

  test("a token from the issuer for this audience is accepted and the event stored", async () => {
    const answer = await httpPost(
      ctx.sink.url,
      withToken("oidc-ok", await ctx.issuer.token({ audience: AUDIENCE })),
    );
    assert.equal(answer.status, 202, answer.body);
    assert.equal(await stored("oidc-ok"), 1);
    assert.equal(
      ctx.issuer.requests("/.well-known/openid-configuration"),
      1,
      "discovery found the keys",
    );
  });

  const refusals: [string, () => Promise<string | undefined>, RegExp][] = [
    ["no Authorization header", () => Promise.resolve(undefined), /no Authorization header/],
    ["another audience", () => ctx.issuer.token({ audience: "someone-else" }), /"aud" claim/],
    [
      "another issuer",
      () => ctx.issuer.token({ audience: AUDIENCE, issuer: "https://evil.example" }),
      /"iss" claim/,
    ],
    [
      "an expired token",
      () => ctx.issuer.token({ audience: AUDIENCE, expiresInSeconds: -120 }),
      /expired/,
    ],
    [
      "a key the issuer does not publish",
      () => ctx.issuer.token({ audience: AUDIENCE, key: "foreign" }),
      /signature/,
    ],
    [
      "an unknown key id",
      () => ctx.issuer.token({ audience: AUDIENCE, kid: "rotated-away" }),
      /key the issuer does not publish/,
    ],
    ["not a JWT", () => Promise.resolve("not-a-jwt"), /not a valid JWT/],
  ];
  for (const [name, token, reason] of refusals) {
    test(`401 for ${name}: nothing stored, the reason named, no token echoed`, async () => {
      const id = `oidc-refused-${name.replaceAll(" ", "-")}`;
      const value = await token();
      const answer = await httpPost(ctx.sink.url, withToken(id, value));
      assert.equal(answer.status, 401, answer.body);
      assert.equal(answer.headers["www-authenticate"], 'Bearer realm="neo4j_sink"');
      const body = JSON.parse(answer.body) as { error: string; reason: string };
      assert.equal(body.error, ErrorCode.SENDER_UNAUTHENTICATED);
      assert.match(body.reason, reason);
      if (value !== undefined) assert.equal(answer.body.includes(value), false);
      assert.equal(await stored(id), 0);
    });
  }

  test("401 for a Basic instead of a Bearer credential", async () => {
    const answer = await httpPost(ctx.sink.url, withToken("oidc-basic", "dXNlcjpwdw==", "Basic"));
    assert.equal(answer.status, 401);
    assert.match(answer.body, /not 'Bearer <token>'/);
  });

  test("probes and metrics need no token; the metric counts the refusals", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`${ctx.sink.url}${path}`);
      assert.equal(response.status, 200, path);
    }
    const metrics = await (await fetch(`${ctx.sink.url}/metrics`)).text();
    assert.match(metrics, /neo4j_sink_events_rejected_total\{reason="unauthenticated"\} [1-9]/);
  });
});

describe("sender identity when the issuer cannot be reached", () => {
  const ctx = sinkRequiringTokens({ retryAfterSeconds: 3 });

  test("503 with Retry-After (the sender retries, nothing is refused), then 202 once it is back", async () => {
    const token = await ctx.issuer.token({ audience: AUDIENCE });
    ctx.issuer.setDown(true);
    const refused = await httpPost(ctx.sink.url, withToken("oidc-issuer-down", token));
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.headers["retry-after"], "3");
    assert.match(refused.body, /OIDC_ISSUER_UNAVAILABLE/);
    ctx.issuer.setDown(false);
    const accepted = await httpPost(ctx.sink.url, withToken("oidc-issuer-down", token));
    assert.equal(accepted.status, 202, accepted.body);
    assert.equal(
      await count(ctx.neo.driver, "MATCH (a:Action {id: 'oidc-issuer-down'}) RETURN count(a) AS n"),
      1,
    );
  });
});

describe("sender identity configuration", () => {
  const base = { NEO4J_PASSWORD: "x" };
  test("off unless both variables are set", () => {
    assert.equal(sinkConfigFromEnv(base).senderIdentity, undefined);
    assert.deepEqual(
      sinkConfigFromEnv({
        ...base,
        SINK_OIDC_ISSUER: "https://kubernetes.default.svc",
        SINK_OIDC_AUDIENCE: AUDIENCE,
      }).senderIdentity,
      { issuer: "https://kubernetes.default.svc", audience: AUDIENCE, jwksUri: undefined },
    );
  });
  test("one without the other is a configuration error naming both", () => {
    assert.throws(
      () => sinkConfigFromEnv({ ...base, SINK_OIDC_AUDIENCE: AUDIENCE }),
      /SINK_OIDC_ISSUER and SINK_OIDC_AUDIENCE go together/,
    );
    assert.throws(
      () =>
        sinkConfigFromEnv({ ...base, SINK_OIDC_ISSUER: "not a url", SINK_OIDC_AUDIENCE: AUDIENCE }),
      /SINK_OIDC_ISSUER/,
    );
  });
});
