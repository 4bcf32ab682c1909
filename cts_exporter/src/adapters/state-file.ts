import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { AppError, ErrorCode } from "@cts/shared";

/** The durable checkpoint (CTS_STATE_FILE), plus the ids already delivered inside the overlap. */
interface SavedState {
  readonly checkpoint: number | undefined;
  /** Where the first window starts while there is no checkpoint yet. */
  readonly start?: number | undefined;
  /** The CTS source the checkpoint belongs to; a different tenant starts afresh. */
  readonly source: string;
  readonly tracker: string;
  readonly seen: readonly (readonly [string, number])[];
}

const StateSchema = z.object({
  version: z.literal(1),
  checkpoint: z.number().int().nonnegative().nullable(),
  start: z.number().int().nonnegative().nullish(),
  source: z.string(),
  tracker: z.string(),
  seen: z.array(z.tuple([z.string(), z.number()])).default([]),
  savedAt: z.string().optional(),
});

/** Reads the state file; undefined when it does not exist yet. A corrupt file is an error. */
export async function readState(path: string): Promise<SavedState | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `cannot read CTS_STATE_FILE ${path}: ${(error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) {
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `CTS_STATE_FILE ${path} is not a checkpoint written by cts_exporter; move it away to start from CTS_FROM`,
    );
  }
  const { checkpoint, start, source, tracker, seen } = parsed.data;
  return { checkpoint: checkpoint ?? undefined, start: start ?? undefined, source, tracker, seen };
}

/**
 * Writes the state atomically: a temporary file in the same directory, flushed to disk, then
 * renamed over the old one, so a crash leaves either the old or the new checkpoint, never half.
 */
export async function writeState(path: string, state: SavedState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  const body = JSON.stringify({
    version: 1,
    checkpoint: state.checkpoint ?? null,
    ...(state.checkpoint === undefined && state.start !== undefined ? { start: state.start } : {}),
    source: state.source,
    tracker: state.tracker,
    seen: state.seen,
    savedAt: new Date().toISOString(),
  });
  const handle = await open(temporary, "w", 0o600);
  try {
    await handle.writeFile(body, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
