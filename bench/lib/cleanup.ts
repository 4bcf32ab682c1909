/**
 * What must not outlive the benchmark (child processes, the Neo4j started for the run): undone
 * in reverse order on Ctrl-C or SIGTERM, since `finally` blocks do not run on a signal.
 */
const undo = new Set<() => Promise<unknown>>();

/** Registers `action`; call the returned function once it is no longer needed. */
export function onInterrupt(action: () => Promise<unknown>): () => void {
  undo.add(action);
  return () => undo.delete(action);
}

export function installSignalHandlers(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: stopping child processes and the benchmark's Neo4j`);
      void (async () => {
        for (const action of [...undo].reverse()) await action().catch(() => undefined);
        process.exit(130);
      })();
    });
  }
}
