import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeHeaderValue } from "@cts/shared";

/** One CloudEvent as a test receiver saw it (binary mode). */
export interface ReceivedEvent {
  readonly id: string;
  readonly type: string;
  readonly subject: string | undefined;
  readonly headers: IncomingMessage["headers"];
  readonly data: Record<string, unknown>;
}

export interface Answer {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A minimal Knative sink for end-to-end tests: decodes binary-mode events, records the ones it
 * acknowledges, and answers whatever `answer` says (202 by default).
 */
export interface EventReceiver {
  readonly url: string;
  /** Events answered with a 2xx, in arrival order (duplicates included). */
  readonly accepted: ReceivedEvent[];
  /** Every request's answer status, in order. */
  readonly statuses: number[];
  answer: (event: ReceivedEvent) => Answer;
  close(): Promise<void>;
}

export async function startEventReceiver(): Promise<EventReceiver> {
  const receiver: Omit<EventReceiver, "url" | "close"> = {
    accepted: [],
    statuses: [],
    answer: () => ({ status: 202 }),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const header = (name: string) => {
        const value = request.headers[name];
        return typeof value === "string" ? decodeHeaderValue(value) : undefined;
      };
      const event: ReceivedEvent = {
        id: header("ce-id") ?? "",
        type: header("ce-type") ?? "",
        subject: header("ce-subject"),
        headers: request.headers,
        data: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
      };
      const answer = receiver.answer(event);
      receiver.statuses.push(answer.status);
      if (answer.status >= 200 && answer.status < 300) receiver.accepted.push(event);
      response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      response.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  });
}

/** Ids that arrived more than once. */
export function duplicateIds(events: readonly ReceivedEvent[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const { id } of events) (seen.has(id) ? duplicates : seen).add(id);
  return [...duplicates];
}
