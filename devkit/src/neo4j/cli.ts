/**
 * `pnpm neo4j start|stop|status`: a real local Neo4j server without Docker (docs/operations.md section 1).
 * `start` prints the Bolt URI as its last line; `status` exits 0 only when the server runs.
 */
import { runCli } from "../cli-runner.js";
import { settingsFromEnv, NEO4J_VERSION } from "./settings.js";
import { start, status, stop } from "./server.js";

const progress = (line: string) => {
  process.stderr.write(`neo4j: ${line}\n`);
};

async function main(command: string | undefined): Promise<number> {
  const settings = settingsFromEnv(process.env);
  switch (command) {
    case "start": {
      const result = await start(settings, progress);
      progress(
        result.alreadyRunning
          ? `already running (pid ${result.pid ?? "?"})`
          : `Neo4j ${NEO4J_VERSION} started in ${result.seconds.toFixed(1)}s (pid ${result.pid ?? "?"})`,
      );
      progress(`Browser: ${result.httpUrl}/browser/  user neo4j`);
      process.stdout.write(`${result.boltUri}\n`);
      return 0;
    }
    case "stop": {
      const stopped = await stop(settings, progress);
      progress(stopped ? "stopped" : "not running");
      return 0;
    }
    case "status": {
      const current = await status(settings);
      if (current.running) {
        progress(`running (pid ${current.pid ?? "?"}), Browser ${current.httpUrl}/browser/`);
        process.stdout.write(`${current.boltUri}\n`);
        return 0;
      }
      progress(
        current.pid === undefined
          ? "not running"
          : `process ${current.pid} runs but Bolt does not answer`,
      );
      return 1;
    }
    default:
      process.stderr.write("usage: pnpm neo4j start|stop|status\n");
      return 64;
  }
}

runCli("neo4j", () => main(process.argv[2]));
