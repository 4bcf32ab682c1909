/**
 * The shared ending of the repository's command-line tools (devkit's, `pnpm bench`, `pnpm demo`): `main` returns the exit code; anything it
 * throws is printed as one `<tool>: message` line on stderr and exits 1.
 */
export function runCli(tool: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${tool}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
