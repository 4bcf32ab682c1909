import { ErrorCode, isAppError } from "@cts/shared";

/**
 * The exporter's exit codes (docs/event-contract.md section 4): every code the process ends
 * with is chosen from this table.
 */
export const EXIT = {
  /** Normal end: after SIGTERM/SIGINT, or `--once` with every collected trace delivered. */
  ok: 0,
  /** `--once` finished with traces not delivered (dead-lettered, or the cycle failed). */
  undelivered: 1,
  /** Something unexpected escaped `runExporter` (a bug); the message is on stderr. */
  crashed: 1,
  /** The cloud client could not be created: IAM refused or was unreachable, no CTS endpoint. */
  cloud: 70,
  /** Configuration: environment, flags, clouds files, the checkpoint file, a busy PORT. */
  config: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Creating the cloud clients failed: bad configuration (a clouds.yaml, CTS_ENDPOINT) or the cloud. */
export function cloudFailureExit(error: unknown): ExitCode {
  return isAppError(error) && error.code === ErrorCode.CONFIG_INVALID ? EXIT.config : EXIT.cloud;
}
