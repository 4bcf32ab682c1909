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

const servers: Server[] = [];

/** Starts `server` on a free local port (closed after the suite) and returns its address. */
async function serve(server: Server, scheme: "http" | "https" = "http"): Promise<URL> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return new URL(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/`);
}

type TransportOptions = Parameters<typeof createHttpTransport>[0];

/** A transport to `sink`: binary mode, one connection, 5 s, the system roots, unless told. */
function transportTo(sink: URL, options: Partial<TransportOptions> = {}) {
  return createHttpTransport({
    sink,
    mode: "binary",
    timeoutMs: 5_000,
    connections: 1,
    caCerts: undefined,
    ...options,
  });
}

/** One attempt through a fresh transport, closed afterwards. */
async function sendOnce(sink: URL, events = [event()], options: Partial<TransportOptions> = {}) {
  const transport = transportTo(sink, options);
  const result = await transport.attempt(events, new AbortController().signal);
  await transport.close();
  return result;
}

describe("HTTP transport to K_SINK (real sockets)", () => {
  after(() => {
    for (const server of servers) server.close();
  });

  test("binary mode: percent-encoded headers decode to the original subject; a 100 KB body arrives intact", async () => {
    const received: Received[] = [];
    const sink = await serve(createHttpServer(receiver(202, received)));
    const ce = event();
    const result = await sendOnce(sink, [ce], { connections: 2 });
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
    const sink = await serve(createHttpServer(receiver(200, received)));
    await sendOnce(sink, [event()], { mode: "structured" });
    await sendOnce(sink, [event({ trace_id: "b1" }), event({ trace_id: "b2" })], { mode: "batch" });
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
    const result = await sendOnce(
      await serve(createHttpServer(receiver(503, received, { "retry-after": "7" }))),
    );
    assert.ok(result.kind === "response");
    assert.equal(result.status, 503);
    assert.equal(result.retryAfter, "7");
    assert.equal(result.body, '{"error":"nope"}');
  });

  test("connection refused and timeouts are network errors, not exceptions", async () => {
    const result = await sendOnce(new URL("http://127.0.0.1:1/"), [event()], { timeoutMs: 2_000 });
    assert.equal(result.kind, "network-error");

    const silent = createHttpServer(() => undefined);
    const slow = transportTo(await serve(silent), { timeoutMs: 300 });
    const timedOut = await slow.attempt([event()], new AbortController().signal);
    await slow.close().catch(() => undefined);
    assert.ok(timedOut.kind === "network-error");
    assert.equal(timedOut.message, "TimeoutError: no answer within 300 ms");
    silent.closeAllConnections();
  });

  test("aborting the caller's signal abandons the requests in flight; a long answer is cut to 2,000 characters", async () => {
    const silent = createHttpServer(() => undefined);
    const transport = transportTo(await serve(silent), { timeoutMs: 30_000, connections: 2 });
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
    const answer = await sendOnce(await serve(long));
    assert.ok(answer.kind === "response");
    assert.equal(answer.status, 400);
    assert.equal(answer.body, "é".repeat(2_000));
  });

  test("an https sink signed by K_CA_CERTS is trusted; without it the certificate is refused", async () => {
    const received: Received[] = [];
    const sink = await serve(
      createHttpsServer(
        { key: fixture("key.pem"), cert: fixture("cert.pem") },
        receiver(202, received),
      ),
      "https",
    );
    const ok = await sendOnce(sink, [event()], { caCerts: fixture("cert.pem") });
    assert.ok(ok.kind === "response" && ok.status === 202);
    const refused = await sendOnce(sink);
    assert.ok(refused.kind === "network-error");
    assert.match(refused.message, /certificate/i);
  });
});
