import type { Logger } from "@cts/shared";
import type { PollState } from "./cycle.js";
import type { SavedState } from "./ports.js";
import { SeenIds } from "./seen-ids.js";
import { RETENTION_MS } from "./window.js";

/** Caps the seen-id set (about 100 bytes an id); beyond it the oldest go, risking only a duplicate. */
const SEEN_IDS_LIMIT = 500_000;
/** What the store keeps of the seen ids, all projects together; beyond it a restart may resend a few duplicates. */
const SAVED_SEEN_LIMIT = 200_000;

/** A project's poll state, named by what its checkpoint belongs to. */
export interface ProjectState {
  /** The project's CTS source (endpoint with project id). */
  readonly source: string;
  readonly tracker: string;
  readonly state: PollState;
}

/** The state of a project polled for the first time: the first cycle looks back CTS_FROM. */
export function freshPollState(): PollState {
  return { checkpoint: undefined, seen: new SeenIds(SEEN_IDS_LIMIT) };
}

/**
 * A project's poll state from the checkpoint store's entries: the entry of the same CTS source
 * and tracker, or a fresh state when there is none (a first start, another tenant or tracker).
 */
export function restorePollState(
  saved: readonly SavedState[] | undefined,
  owner: Omit<ProjectState, "state">,
  context: { readonly logger: Logger; readonly stateFile: string; readonly now: number },
): PollState {
  const { logger, stateFile, now } = context;
  const state = freshPollState();
  if (saved === undefined) {
    logger.info({ stateFile }, "no checkpoint yet; first cycle looks back CTS_FROM minutes");
    return state;
  }
  const entry = saved.find(
    ({ source, tracker }) => source === owner.source && tracker === owner.tracker,
  );
  if (entry === undefined) {
    logger.warn(
      { stateFile, savedSources: saved.map(({ source }) => source), source: owner.source },
      "no checkpoint for this project and tracker; starting afresh",
    );
    return state;
  }
  if (entry.checkpoint !== undefined && entry.checkpoint < now - RETENTION_MS) {
    logger.warn(
      { checkpoint: new Date(entry.checkpoint).toISOString() },
      "checkpoint older than CTS retention (7 days); traces before it are gone",
    );
  }
  state.checkpoint = entry.checkpoint;
  state.start = entry.start;
  for (const [id, time] of entry.seen) state.seen.add(id, time);
  logger.info(
    {
      checkpoint: entry.checkpoint === undefined ? null : new Date(entry.checkpoint).toISOString(),
      seen: entry.seen.length,
    },
    "resuming from checkpoint",
  );
  return state;
}

/** What the checkpoint store keeps: every project's state, each with its share of the seen ids. */
export function toSavedStates(projects: readonly ProjectState[]): SavedState[] {
  const seenEach = Math.floor(SAVED_SEEN_LIMIT / projects.length);
  return projects.map(({ source, tracker, state }) => ({
    checkpoint: state.checkpoint,
    start: state.start,
    source,
    tracker,
    seen: state.seen.entries().slice(-seenEach),
  }));
}
