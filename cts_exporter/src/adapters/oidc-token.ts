import { readFileSync, statSync } from "node:fs";

/**
 * The sender-identity token Knative mounts when OIDC is on (`/oidc/token`, see
 * docs/event-contract.md, "Sender identity"). Knative renews it inside the running pod, so the
 * file is checked again at most every `checkIntervalMs` and re-read when it changed; a missing
 * or empty file means no Authorization header (OIDC is off for this sink).
 */
export function createTokenFile(
  path: string,
  options: { checkIntervalMs?: number; now?: () => number } = {},
): () => string | undefined {
  const interval = options.checkIntervalMs ?? 1_000;
  const now = options.now ?? Date.now;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let version = "";
  let token: string | undefined;
  return () => {
    const time = now();
    if (time - checkedAt < interval) return token;
    checkedAt = time;
    // A projected volume swaps a symbolic link, so the followed inode and mtime change.
    const stats = statSync(path, { throwIfNoEntry: false });
    const current = stats === undefined ? "" : `${stats.ino}:${stats.mtimeMs}:${stats.size}`;
    if (current === version) return token;
    version = current;
    try {
      token = stats === undefined ? undefined : readFileSync(path, "utf8").trim() || undefined;
    } catch {
      token = undefined; // removed between stat and read: as if absent
    }
    return token;
  };
}
