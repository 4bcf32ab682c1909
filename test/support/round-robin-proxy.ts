import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/** A loopback HTTP front for several sink replicas, as Knative's routing is for a scaled Service. */
export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`: the K_SINK of the exporters. */
  readonly url: string;
  /** Answers seen, by status (0 = the replica could not be reached), over all replicas. */
  statuses(): ReadonlyMap<number, number>;
  /** Requests forwarded to each upstream, in the order given. */
  perUpstream(): readonly number[];
  close(): Promise<void>;
}

/**
 * Forwards each request to the next of `upstreams` in turn, streaming the body both ways and
 * passing the status and headers through unchanged, so a 5xx of any replica reaches the sender
 * (and is counted here). Test infrastructure only: it stands in for the Knative activator and
 * queue-proxy, which spread requests over the replicas of a Service.
 */
export async function startRoundRobinProxy(upstreams: readonly string[]): Promise<RoundRobinProxy> {
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const statuses = new Map<number, number>();
  const forwarded = upstreams.map(() => 0);
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  let next = 0;
  const server = createServer((incoming, outgoing) => {
    const index = next++ % upstreams.length;
    forwarded[index] = (forwarded[index] ?? 0) + 1;
    const target = new URL(incoming.url ?? "/", upstreams[index]);
    const upstream = request(
      target,
      { method: incoming.method, headers: incoming.headers, agent },
      (answer) => {
        count(answer.statusCode ?? 0);
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on("error", (error) => {
      count(0);
      if (!outgoing.headersSent) {
        outgoing.writeHead(502, { "content-type": "text/plain" });
      }
      outgoing.end(`replica ${index} unreachable: ${error.message}`);
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    statuses: () => new Map(statuses),
    perUpstream: () => [...forwarded],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      agent.destroy();
    },
  };
}
