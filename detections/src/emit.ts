import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { AppError, binaryMessage, ErrorCode } from "@cts/shared";
import type { Finding } from "./runner.js";

/** The CloudEvent type of a finding; a Knative Trigger can filter on it. */
const DETECTION_EVENT_TYPE = "cloud.otc.cts.detection";
const DETECTION_EVENT_SOURCE = "cloudtrace-exporter/detections";

/** What --emit remembers: the identity of every finding posted, and when. */
interface EmitState {
  readonly version: 1;
  readonly emitted: Record<string, string>;
}

/**
 * The CloudEvent of a finding. The id is derived from the finding's identity, so a receiver
 * that deduplicates by id sees a repeated post as the same event.
 */
function findingEvent(finding: Finding, now: Date) {
  return {
    specversion: "1.0" as const,
    id: createHash("sha256").update(finding.identity, "utf8").digest("hex").slice(0, 32),
    source: DETECTION_EVENT_SOURCE,
    type: DETECTION_EVENT_TYPE,
    subject: finding.identity,
    time: now.toISOString(),
    datacontenttype: "application/json",
    severity: finding.severity,
    rule: finding.rule,
    data: {
      rule: finding.rule,
      title: finding.title,
      severity: finding.severity,
      key: finding.key,
      summary: finding.summary,
      finding: finding.row,
    },
  };
}

/** Reads the state file; a missing file is an empty state, a damaged one an error (exit 78). */
export function readEmitState(path: string): EmitState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, emitted: {} };
    throw new AppError(
      ErrorCode.CONFIG_INVALID,
      `cannot read the emit state file ${path}: ${(error as Error).message}`,
    );
  }
  try {
    const parsed = JSON.parse(text) as { version?: unknown; emitted?: unknown } | null;
    const emitted = parsed?.emitted;
    if (parsed?.version === 1 && typeof emitted === "object" && emitted !== null) {
      return { version: 1, emitted: { ...(emitted as Record<string, string>) } };
    }
  } catch {
    // reported below
  }
  throw new AppError(
    ErrorCode.CONFIG_INVALID,
    `the emit state file ${path} is not a detections state file ({"version":1,"emitted":{...}}); ` +
      "move it away to start afresh (every current finding is then posted again)",
  );
}

/** Writes the state atomically (a crash leaves the old or the new file, never half of one). */
function writeEmitState(path: string, state: EmitState): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, path);
}

interface EmitResult {
  readonly posted: number;
  readonly skipped: number;
  readonly failed: readonly { identity: string; reason: string }[];
}

const TIMEOUT_MS = 10_000;

/**
 * Posts every finding not in the state to `sink` (binary mode), one at a time, and records each
 * one the sink accepted (2xx) in the state file right away, so a crash never posts it twice
 * (at most the one in flight). Failures are reported, not retried: the next run posts them.
 */
export async function emitFindings(
  findings: readonly Finding[],
  target: { sink: string; stateFile: string },
  now = new Date(),
): Promise<EmitResult> {
  const state = readEmitState(target.stateFile);
  let posted = 0;
  let skipped = 0;
  const failed: { identity: string; reason: string }[] = [];
  for (const finding of findings) {
    if (finding.identity in state.emitted) {
      skipped++;
      continue;
    }
    const message = binaryMessage(findingEvent(finding, now));
    try {
      const answer = await fetch(target.sink, {
        method: "POST",
        headers: message.headers,
        body: message.body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await answer.arrayBuffer();
      if (!answer.ok) {
        failed.push({ identity: finding.identity, reason: `HTTP ${answer.status}` });
        continue;
      }
    } catch (error) {
      failed.push({ identity: finding.identity, reason: (error as Error).message });
      continue;
    }
    state.emitted[finding.identity] = now.toISOString();
    writeEmitState(target.stateFile, state);
    posted++;
  }
  return { posted, skipped, failed };
}
