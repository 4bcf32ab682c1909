import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** What a route handler answers; the server writes it. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body, headers };
}

/** The API Gateway's error shape, in front of CTS (docs/otc-api-notes.md section 8). */
export function gatewayError(status: number, code: string, message: string): Reply {
  return json(status, {
    error_code: code,
    error_msg: message,
    request_id: randomBytes(16).toString("hex"),
  });
}

/** A CTS service error (`CTS.XXXX`). */
export function ctsError(status: number, code: string, message: string): Reply {
  return json(status, { error_code: code, error_msg: message });
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
};

/** IAM's Keystone-style error: `{"error": {"code", "title", "message"}}`. */
export function keystoneError(status: number, message: string): Reply {
  return json(status, { error: { code: status, title: TITLES[status] ?? "Error", message } });
}

export function writeReply(response: ServerResponse, reply: Reply): void {
  const body = reply.body === undefined ? "" : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    "content-type": "application/json;charset=utf-8",
    "content-length": Buffer.byteLength(body),
    ...reply.headers,
  });
  response.end(body);
}

/** Reads the whole body; `undefined` when it exceeds `maxBytes` (the gateway's 12 MB). */
export async function readBody(
  request: IncomingMessage,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
