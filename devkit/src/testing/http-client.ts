import { request, type Agent, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";

/** Header values as node:http puts them on the wire: a string is written as latin-1 bytes. */
export type WireHeaders = Readonly<Record<string, string | readonly string[]>>;

export interface WireRequest {
  readonly headers: WireHeaders;
  /** A string is sent as UTF-8; a Buffer byte for byte (invalid UTF-8 included). */
  readonly body: string | Buffer;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * POSTs with node:http, not fetch: header values go out as the latin-1 bytes of the string
 * (so a test can send raw UTF-8, or bytes that are no UTF-8 at all), arrays become repeated
 * headers, and nothing is normalised. `pieces` sends the body chunked, without Content-Length.
 */
export function httpPost(
  url: string,
  message: WireRequest,
  options: { agent?: Agent; timeoutMs?: number; pieces?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: message.headers as Record<string, string | string[]>,
        timeout: options.timeoutMs ?? 30_000,
        ...(options.agent === undefined ? {} : { agent: options.agent }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`POST ${url} timed out`)));
    req.on("error", reject);
    const body = Buffer.from(message.body);
    const pieces = options.pieces ?? 1;
    if (pieces <= 1) {
      req.end(body);
      return;
    }
    const size = Math.ceil(body.length / pieces);
    for (let at = 0; at < body.length; at += size) req.write(body.subarray(at, at + size));
    req.end();
  });
}

/**
 * Writes `bytes` to a fresh TCP connection and returns whatever comes back until the server
 * closes it or `timeoutMs` passes (latin-1, so every byte survives): for requests no HTTP
 * client would send.
 */
export function rawExchange(
  port: number,
  bytes: Buffer,
  options: { timeoutMs?: number; halfClose?: boolean } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1");
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    };
    const timer = setTimeout(done, options.timeoutMs ?? 10_000);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", done);
    socket.on("error", done);
    socket.write(bytes, () => {
      if (options.halfClose === true) socket.end();
    });
  });
}

/** The status code of a raw HTTP/1.1 answer, or undefined when there was none. */
export function rawStatus(answer: string): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
  return match === null ? undefined : Number(match[1]);
}
