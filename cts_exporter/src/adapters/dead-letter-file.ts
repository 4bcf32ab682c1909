import { mkdir, open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { AppError, ErrorCode, eventToJson } from "@cts/shared";
import type { DeadLetter, DeadLetterSink } from "../core/ports.js";

/**
 * CTS_DEAD_LETTER_FILE: one JSON line per event taken out of the pipeline, appended and flushed
 * to disk before the cycle may move the checkpoint past it. A line holds `deadLetteredAt`,
 * `reason`, `id` and either `status`, `answer` and the whole `event` (structured JSON format)
 * or `error` and the raw `trace`. Writes are serialised so concurrent rejections never
 * interleave inside a line.
 */
export function createDeadLetterFile(
  path: string,
  now: () => number,
): DeadLetterSink & {
  close(): Promise<void>;
} {
  let handle: Promise<FileHandle> | undefined;
  let queue: Promise<void> = Promise.resolve();

  const opened = async (): Promise<FileHandle> => {
    await mkdir(dirname(path), { recursive: true });
    return open(path, "a", 0o600);
  };

  const append = async (letter: DeadLetter): Promise<void> => {
    const line = {
      deadLetteredAt: new Date(now()).toISOString(),
      ...("event" in letter
        ? {
            reason: letter.reason,
            id: letter.id,
            status: letter.status,
            answer: letter.answer,
            event: eventToJson(letter.event),
          }
        : { reason: letter.reason, id: letter.id, error: letter.error, trace: letter.trace }),
    };
    try {
      handle ??= opened();
      const file = await handle;
      await file.appendFile(`${JSON.stringify(line)}\n`, "utf8");
      await file.datasync();
    } catch (error) {
      handle = undefined;
      throw new AppError(
        ErrorCode.INTERNAL,
        `cannot write event ${letter.id} to CTS_DEAD_LETTER_FILE ${path}: ${(error as Error).message}; ` +
          "the checkpoint stays before it until the file is writable",
        { cause: error },
      );
    }
  };

  return {
    location: path,
    write(letter) {
      const written = queue.then(() => append(letter));
      queue = written.catch(() => undefined);
      return written;
    },
    async close() {
      await queue;
      const file = await handle?.catch(() => undefined);
      await file?.close();
    },
  };
}
