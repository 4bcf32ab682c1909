import type { IncomingMessage } from "node:http";
import { AppError, ErrorCode } from "@cts/shared";

function tooLarge(limit: number): AppError {
  return new AppError(
    ErrorCode.PAYLOAD_TOO_LARGE,
    `the request body exceeds ${limit} bytes; send smaller batches or raise SINK_MAX_BODY_BYTES`,
  );
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads the whole body as UTF-8 text, refusing more than `limit` bytes. A refused body is
 * drained in the background, not left unread, so the client gets its 413 on a connection that
 * stays usable.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    request.resume();
    return Promise.reject(tooLarge(limit));
  }
  // Event listeners, not `for await`: leaving an async iterator early destroys the socket.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      request.resume();
      reject(tooLarge(limit));
    };
    const onEnd = () => {
      cleanup();
      try {
        resolve(utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
      } catch {
        reject(new AppError(ErrorCode.CE_INVALID, "the request body is not valid UTF-8"));
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(
        new AppError(ErrorCode.CE_INVALID, "the request body could not be read", { cause: error }),
      );
    };
    const cleanup = () => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
  });
}
