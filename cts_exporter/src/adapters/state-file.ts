import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { AppError, ErrorCode } from "@cts/shared";
import type { CheckpointStore, SavedState } from "../core/ports.js";
import { parseJsonAs } from "../json.js";

/**
 * The checkpoint store as one JSON file (CTS_STATE_FILE) holding every project's entry. Saves
 * run one after another: a save starts only when the one before it has renamed its file.
 */
export function createStateFile(path: string): CheckpointStore {
  let saving: Promise<void> = Promise.resolve();
  return {
    location: path,
    load: () => readStates(path),
    save(states) {
      const save = saving.then(() => writeStates(path, states));
      saving = save.catch(() => undefined);
      return save;
    },
  };
}

const Entry = z.object({
  checkpoint: z.number().int().nonnegative().nullable(),
  start: z.number().int().nonnegative().nullish(),
  source: z.string(),
  tracker: z.string(),
  seen: z.array(z.tuple([z.string(), z.number()])).default([]),
});
/** Version 1: one project (the file every single-project exporter writes). */
const StateV1 = Entry.extend({ version: z.literal(1), savedAt: z.string().optional() });
/** Version 2: one entry per project (CTS_PROJECTS), each found again by its CTS source. */
const StateV2 = z.object({
  version: z.literal(2),
  projects: z.array(Entry),
  savedAt: z.string().optional(),
});
const StateSchema = z.union([StateV1, StateV2]);

/**
 * Reads the state file: every project's entry; undefined when it does not exist yet. A corrupt
 * file is an error.
 */
export async function readStates(path: string): Promise<SavedState[] | undefined> {
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
  const state = parseJsonAs(StateSchema, text);
  if (state === undefined) {
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `CTS_STATE_FILE ${path} is not a checkpoint written by cts_exporter; move it away to start from CTS_FROM`,
    );
  }
  const entries = state.version === 1 ? [state] : state.projects;
  return entries.map(({ checkpoint, start, source, tracker, seen }) => ({
    checkpoint: checkpoint ?? undefined,
    start: start ?? undefined,
    source,
    tracker,
    seen,
  }));
}

/** The single project's entry, for callers that poll one project. */
export async function readState(path: string): Promise<SavedState | undefined> {
  return (await readStates(path))?.[0];
}

/**
 * Writes the state atomically: a temporary file in the same directory, flushed to disk, then
 * renamed over the old one, so a crash leaves either the old or the new checkpoint, never half.
 */
export async function writeState(path: string, state: SavedState): Promise<void> {
  await writeStates(path, [state]);
}

/** Writes every project's entry: version 1 for one project (as before), version 2 for several. */
export async function writeStates(path: string, states: readonly SavedState[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  const entry = (state: SavedState) => ({
    checkpoint: state.checkpoint ?? null,
    ...(state.checkpoint === undefined && state.start !== undefined ? { start: state.start } : {}),
    source: state.source,
    tracker: state.tracker,
    seen: state.seen,
  });
  const [only] = states;
  const body = JSON.stringify(
    states.length === 1 && only !== undefined
      ? { version: 1, ...entry(only), savedAt: new Date().toISOString() }
      : { version: 2, projects: states.map(entry), savedAt: new Date().toISOString() },
  );
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
