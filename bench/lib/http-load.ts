import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { HttpMessage } from "@cts/shared";
import { progress } from "./progress.js";

/** One request to send and how many events it carries. */
export interface Shot {
  readonly message: HttpMessage;
  readonly events: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly concurrency: number;
  /** Stop sending new requests after this many ms; requests in flight are still counted. */
  readonly boundMs: number;
  readonly label: string;
  /** The answer that acknowledges a request; 202 unless said otherwise. */
  readonly accepted?: (status: number) => boolean;
}

export interface LoadResult {
  /** Events acknowledged (202, or what `accepted` allows). */
  readonly events: number;
  readonly requests: number;
  readonly elapsedMs: number;
  /** Time to the acknowledgement of each request (the last attempt), in ms. */
  readonly latenciesMs: number[];
  /** Other answers by status (or "network"), retries included. */
  readonly failures: Record<string, number>;
  /** True when every shot was acknowledged before the bound. */
  readonly complete: boolean;
}

const ATTEMPTS = 5;

function post(agent: Agent, url: URL, message: HttpMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: "POST", agent, headers: { ...message.headers } },
      (response) => {
        response.resume();
        response.on("end", () => {
          resolve(response.statusCode ?? 0);
        });
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(message.body);
  });
}

/**
 * Posts `shots` in order over `concurrency` keep-alive connections, each connection sending
 * its next request as soon as the previous one is answered (a closed loop, like the exporter's
 * bounded concurrency). A 503 (the sink's back-pressure) is retried after a short pause; the
 * latency recorded is that of the attempt that got the 202.
 */
export async function postAll(shots: readonly Shot[], options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latenciesMs: number[] = [];
  const failures: Record<string, number> = {};
  const fail = (key: string) => (failures[key] = (failures[key] ?? 0) + 1);
  const total = shots.reduce((sum, shot) => sum + shot.events, 0);
  const meter = progress(options.label);
  const accepted = options.accepted ?? ((status: number) => status === 202);
  let next = 0;
  let events = 0;
  let requests = 0;
  const started = performance.now();
  const deadline = started + options.boundMs;

  const worker = async () => {
    while (next < shots.length && performance.now() < deadline) {
      const shot = shots[next++];
      if (shot === undefined) break;
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const sent = performance.now();
        let status: number;
        try {
          status = await post(agent, url, shot.message);
        } catch {
          status = 0;
        }
        requests++;
        if (accepted(status)) {
          latenciesMs.push(performance.now() - sent);
          events += shot.events;
          meter.tick(events, total);
          break;
        }
        fail(status === 0 ? "network" : String(status));
        if (status !== 503 && status !== 0) break;
        await sleep(100);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return {
    events,
    requests,
    elapsedMs,
    latenciesMs,
    failures,
    complete: events === total,
  };
}
