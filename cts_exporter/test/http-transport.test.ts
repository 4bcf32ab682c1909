import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { CtsTrace, decodeHeaderValue, traceToCloudEvent } from "@cts/shared";
import { createHttpTransport } from "../src/adapters/http-transport.js";

const origin = {
  source: "https://cts.eu-de.otc.t-systems.com/v3/p1",
  region: "eu-de",
  projectId: "p1",
  domainId: "d1",
};
const fixture = (name: string) =>
  readFileSync(new URL(`fixtures/tls/${name}`, import.meta.url), "utf8");

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return String((server.address() as AddressInfo).port);
}

function receiver(status: number, received: Received[], extraHeaders: Record<string, string> = {}) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response
        .writeHead(status, { "content-type": "application/json", ...extraHeaders })
        .end(status >= 400 ? '{"error":"nope"}' : "");
    });
  };
}

function event(overrides: Record<string, unknown> = {}) {
  const raw = {
    trace_id: "t-1",
    trace_name: "updateServer",
    service_type: "ECS",
    time: 1_700_000_000_000,
    resource_name: 'Prüfserver 東京 "α"',
    request: "x".repeat(100_000),
    ...overrides,
  };
  return traceToCloudEvent(CtsTrace.parse(raw), raw, { origin });
}

describe("HTTP transport to K_SINK (real sockets)", () => {
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  test("binary mode: percent-encoded headers decode to the original subject; a 100 KB body arrives intact", async () => {
    const received: Received[] = [];
    const server = createHttpServer(receiver(202, received));
    servers.push(server);
    const port = await listen(server);
    const transport = createHttpTransport({
      sink: new URL(`http://127.0.0.1:${port}/`),
      mode: "binary",
      timeoutMs: 5_000,
      connections: 2,
      caCerts: undefined,
    });
    const ce = event();
    const result = await transport.attempt([ce], new AbortController().signal);
    await transport.close();
    assert.deepEqual(result.kind === "response" && result.status, 202);
    const [request] = received;
    assert.ok(request);
    assert.equal(request.headers["ce-id"], "t-1");
    assert.equal(request.headers["ce-type"], "ecs.updateserver");
    assert.equal(decodeHeaderValue(String(request.headers["ce-subject"])), 'Prüfserver 東京 "α"');
    assert.equal(request.headers["content-type"], "application/json; charset=utf-8");
    const data = JSON.parse(request.body) as Record<string, unknown>;
    assert.equal((data["request"] as string).length, 100_000);
    assert.deepEqual(data, ce.data);
  });

  test("structured and batch modes send the JSON formats", async () => {
    const received: Received[] = [];
    const server = createHttpServer(receiver(200, received));
    servers.push(server);
    const port = await listen(server);
    const sink = new URL(`http://127.0.0.1:${port}/`);
    const structured = createHttpTransport({
      sink,
      mode: "structured",
      timeoutMs: 5_000,
      connections: 1,
      caCerts: undefined,
    });
    await structured.attempt([event()], new AbortController().signal);
    await structured.close();
    const batch = createHttpTransport({
      sink,
      mode: "batch",
      timeoutMs: 5_000,
      connections: 1,
      caCerts: undefined,
    });
    await batch.attempt(
      [event({ trace_id: "b1" }), event({ trace_id: "b2" })],
      new AbortController().signal,
    );
    await batch.close();
    assert.match(String(received[0]?.headers["content-type"]), /^application\/cloudevents\+json/);
    assert.equal(
      (JSON.parse(received[0]?.body ?? "{}") as { subject: string }).subject,
      'Prüfserver 東京 "α"',
    );
    assert.match(
      String(received[1]?.headers["content-type"]),
      /^application\/cloudevents-batch\+json/,
    );
    assert.deepEqual(
      (JSON.parse(received[1]?.body ?? "[]") as { id: string }[]).map((e) => e.id),
      ["b1", "b2"],
    );
  });

  test("a 503 with Retry-After and the receiver's message come back to the caller", async () => {
    const received: Received[] = [];
    const server = createHttpServer(receiver(503, received, { "retry-after": "7" }));
    servers.push(server);
    const port = await listen(server);
    const transport = createHttpTransport({
      sink: new URL(`http://127.0.0.1:${port}/`),
      mode: "binary",
      timeoutMs: 5_000,
      connections: 1,
      caCerts: undefined,
    });
    const result = await transport.attempt([event()], new AbortController().signal);
    await transport.close();
    assert.ok(result.kind === "response");
    assert.equal(result.status, 503);
    assert.equal(result.retryAfter, "7");
    assert.equal(result.body, '{"error":"nope"}');
  });

  test("connection refused and timeouts are network errors, not exceptions", async () => {
    const refused = createHttpTransport({
      sink: new URL("http://127.0.0.1:1/"),
      mode: "binary",
      timeoutMs: 2_000,
      connections: 1,
      caCerts: undefined,
    });
    const result = await refused.attempt([event()], new AbortController().signal);
    await refused.close();
    assert.equal(result.kind, "network-error");

    const silent = createHttpServer(() => undefined);
    servers.push(silent);
    const port = await listen(silent);
    const slow = createHttpTransport({
      sink: new URL(`http://127.0.0.1:${port}/`),
      mode: "binary",
      timeoutMs: 300,
      connections: 1,
      caCerts: undefined,
    });
    const timedOut = await slow.attempt([event()], new AbortController().signal);
    await slow.close().catch(() => undefined);
    assert.ok(timedOut.kind === "network-error");
    assert.equal(timedOut.message, "TimeoutError: no answer within 300 ms");
    silent.closeAllConnections();
  });

  test("aborting the caller's signal abandons the requests in flight; a long answer is cut to 2,000 characters", async () => {
    const silent = createHttpServer(() => undefined);
    servers.push(silent);
    const port = await listen(silent);
    const transport = createHttpTransport({
      sink: new URL(`http://127.0.0.1:${port}/`),
      mode: "binary",
      timeoutMs: 30_000,
      connections: 2,
      caCerts: undefined,
    });
    const shutdown = new AbortController();
    const attempts = [
      transport.attempt([event({ trace_id: "a" })], shutdown.signal),
      transport.attempt([event({ trace_id: "b" })], shutdown.signal),
    ];
    await new Promise((resolve) => setTimeout(resolve, 50));
    shutdown.abort(new Error("grace period over"));
    const results = await Promise.all(attempts);
    assert.deepEqual(
      results.map((result) => result.kind === "network-error" && result.message),
      ["Error: grace period over", "Error: grace period over"],
    );
    const late = await transport.attempt([event()], shutdown.signal);
    assert.equal(late.kind, "network-error", "an already aborted signal sends nothing");
    await transport.close().catch(() => undefined);
    silent.closeAllConnections();

    const long = createHttpServer((_request, response) => {
      response.writeHead(400).end("é".repeat(5_000));
    });
    servers.push(long);
    const longPort = await listen(long);
    const answering = createHttpTransport({
      sink: new URL(`http://127.0.0.1:${longPort}/`),
      mode: "binary",
      timeoutMs: 5_000,
      connections: 1,
      caCerts: undefined,
    });
    const answer = await answering.attempt([event()], new AbortController().signal);
    await answering.close();
    assert.ok(answer.kind === "response");
    assert.equal(answer.status, 400);
    assert.equal(answer.body, "é".repeat(2_000));
  });

  test("an https sink signed by K_CA_CERTS is trusted; without it the certificate is refused", async () => {
    const received: Received[] = [];
    const server = createHttpsServer(
      { key: fixture("key.pem"), cert: fixture("cert.pem") },
      receiver(202, received),
    );
    servers.push(server);
    const port = await listen(server);
    const sink = new URL(`https://127.0.0.1:${port}/`);
    const trusting = createHttpTransport({
      sink,
      mode: "binary",
      timeoutMs: 5_000,
      connections: 1,
      caCerts: fixture("cert.pem"),
    });
    const ok = await trusting.attempt([event()], new AbortController().signal);
    await trusting.close();
    assert.ok(ok.kind === "response" && ok.status === 202);
    const untrusting = createHttpTransport({
      sink,
      mode: "binary",
      timeoutMs: 5_000,
      connections: 1,
      caCerts: undefined,
    });
    const refused = await untrusting.attempt([event()], new AbortController().signal);
    await untrusting.close();
    assert.ok(refused.kind === "network-error");
    assert.match(refused.message, /certificate/i);
  });
});
