/**
 * The shell commands config/README.md documents, read from its fenced code blocks, so the
 * tests can hold the README and the manifests to each other.
 */
import { basename } from "node:path";

interface ReadmeCommands {
  /** Secret name -> keys, from `kubectl create secret generic NAME --from-file/--from-literal`. */
  readonly secrets: Map<string, Set<string>>;
  /** Folders given to `kubectl apply -k` / `kubectl delete -k`. */
  readonly kustomizeTargets: Set<string>;
  /** Image names given to `kustomize edit set image NAME=...`. */
  readonly imageNames: Set<string>;
  /** Dockerfiles given to `docker build -f`. */
  readonly dockerfiles: Set<string>;
}

/** Commands in ```bash / ```sh / ```shell blocks, with `\` continuations joined. */
function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  const blocks = markdown.matchAll(/^```(?:bash|sh|shell)\n([\s\S]*?)^```/gm);
  for (const [, body] of blocks) {
    const joined = (body ?? "").replace(/\\\n\s*/g, " ");
    for (const line of joined.split("\n")) {
      const command = line.replace(/(^|\s)#.*$/, "").trim();
      if (command !== "") commands.push(command);
    }
  }
  return commands;
}

/** Splits on blanks, honouring single and double quotes (no escapes inside: not needed here). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(
    (match) => match[1] ?? match[2] ?? match[3] ?? "",
  );
}

export function readmeCommands(markdown: string): ReadmeCommands {
  const result: ReadmeCommands = {
    secrets: new Map(),
    kustomizeTargets: new Set(),
    imageNames: new Set(),
    dockerfiles: new Set(),
  };
  for (const command of shellCommands(markdown)) {
    // A pipeline's or list's parts are commands of their own.
    for (const part of command.split(/\s*(?:\||&&|;)\s*/)) {
      const argv = words(part);
      const [tool, first, second, third] = argv;
      if (tool === "kubectl" && first === "create" && second === "secret" && third === "generic") {
        const name = argv[4];
        if (name === undefined) continue;
        const keys = result.secrets.get(name) ?? new Set<string>();
        for (const arg of argv.slice(5)) {
          const literal = /^--from-literal=([^=]+)=/.exec(arg);
          const file = /^--from-file=(?:([^=]+)=)?(.+)$/.exec(arg);
          if (literal?.[1] !== undefined) keys.add(literal[1]);
          else if (file?.[2] !== undefined) keys.add(file[1] ?? basename(file[2]));
        }
        result.secrets.set(name, keys);
      }
      if (tool === "kubectl" && (first === "apply" || first === "delete")) {
        const index = argv.indexOf("-k");
        const target = index >= 0 ? argv[index + 1] : undefined;
        if (target !== undefined) result.kustomizeTargets.add(target.replace(/\/$/, ""));
      }
      if (tool === "kustomize" && first === "edit" && second === "set" && third === "image") {
        for (const arg of argv.slice(4)) result.imageNames.add(arg.split("=")[0]!);
      }
      if (tool === "docker" && (first === "build" || (first === "buildx" && second === "build"))) {
        const index = argv.indexOf("-f");
        const file = index >= 0 ? argv[index + 1] : undefined;
        if (file !== undefined) result.dockerfiles.add(file);
      }
    }
  }
  return result;
}
