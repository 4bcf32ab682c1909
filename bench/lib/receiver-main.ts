/**
 * The exporter scenario's sink: a minimal receiver that reads each request, counts its events
 * and answers 202, nothing else. It runs as its own process so the exporter is measured, not
 * the receiver; it prints `{"port":N}` once listening, and `GET /stats` returns its counts.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const stats = { events: 0, requests: 0, bytes: 0, firstMs: 0, lastMs: 0 };

const server = createServer((request, response) => {
  if (request.method === "GET") {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(stats));
    return;
  }
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const batch = String(request.headers["content-type"]).startsWith(
      "application/cloudevents-batch",
    );
    const body = Buffer.concat(chunks);
    const events = batch ? (JSON.parse(body.toString("utf8")) as unknown[]).length : 1;
    const now = Date.now();
    stats.firstMs ||= now;
    stats.lastMs = now;
    stats.events += events;
    stats.requests += 1;
    stats.bytes += body.length;
    response.writeHead(202);
    response.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
