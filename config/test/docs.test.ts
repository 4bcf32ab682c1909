import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, test } from "node:test";
import { load } from "js-yaml";
import { REPO_ROOT } from "./kustomize-lite.js";

/** Folders that hold no project text: dependencies, builds, local servers, the toolchain. */
const SKIPPED_DIRS = new Set([".git", "node_modules", "dist", ".neo4j", ".toolchain", "results"]);
const SOURCE_FILE = /\.(ts|js|sh|ya?ml|cypher)$|^Dockerfile$|^run$/;

function walk(dir: string, keep: (name: string) => boolean, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name), keep, found);
    } else if (keep(entry.name)) {
      found.push(join(dir, entry.name));
    }
  }
  return found;
}

const sourceFiles = walk(REPO_ROOT, (name) => SOURCE_FILE.test(name));
const markdownFiles = walk(REPO_ROOT, (name) => name.endsWith(".md"));

/** A cited document exists relative to the citing file or to the repository root. */
function resolves(citation: string, file: string): boolean {
  const path = citation.replace(/[#?].*$/, "");
  return existsSync(join(dirname(file), path)) || existsSync(join(REPO_ROOT, path));
}

const MD_PATH = /(?<![\w./-])[\w./-]*[\w-]\.md\b/g;

describe("documents cited by the code and the docs exist in the repository", () => {
  test("the source files were found", () => {
    assert.ok(sourceFiles.length > 100, `only ${sourceFiles.length} source files found`);
    assert.ok(existsSync(join(REPO_ROOT, "docs/architecture.md")));
  });

  test("every .md path a source file names exists", () => {
    const missing: string[] = [];
    for (const file of sourceFiles) {
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, index) => {
        for (const [citation] of line.matchAll(MD_PATH)) {
          if (!resolves(citation, file)) {
            missing.push(`${relative(REPO_ROOT, file)}:${index + 1} cites ${citation}`);
          }
        }
      });
    }
    assert.deepEqual(missing, [], "cite a file under docs/ (or nothing) instead");
  });

  test("no source file cites the interface contract by section number", () => {
    // The contract's content lives in docs/event-contract.md and docs/graph-model.md.
    const offenders = sourceFiles
      .filter((file) => /\bcontract sections? \d/.test(readFileSync(file, "utf8")))
      .map((file) => relative(REPO_ROOT, file));
    assert.deepEqual(offenders, [], "cite docs/event-contract.md or docs/graph-model.md");
  });

  test("every relative link in a Markdown file points at an existing file", () => {
    const broken: string[] = [];
    for (const file of markdownFiles) {
      for (const [, target = ""] of readFileSync(file, "utf8").matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
        const path = target.replace(/[#?].*$/, "");
        if (!existsSync(join(dirname(file), path))) {
          broken.push(`${relative(REPO_ROOT, file)} links to ${target}`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
});

/** The first-column paths of the Markdown table that starts after `heading`. */
function tablePaths(file: string, heading: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), "utf8");
  const start = text.indexOf(heading);
  assert.ok(start >= 0, `${file} has no "${heading}"`);
  const lines = text.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith("|")) break;
    const path = /^\| `([^`]+)`/.exec(line)?.[1];
    if (path !== undefined) rows.push(path.replace(/\/$/, ""));
  }
  return rows;
}

/** The top-level folders that hold project files (not dependencies, builds or local state). */
const topFolders = readdirSync(REPO_ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
  .filter((entry) => !SKIPPED_DIRS.has(entry.name))
  .map((entry) => entry.name)
  .filter((name) => walk(join(REPO_ROOT, name), () => true).length > 0);

describe("the layout tables match the tree", () => {
  for (const [file, heading] of [
    ["README.md", "## Repository layout"],
    ["docs/architecture.md", "## 1. Packages"],
  ] as const) {
    test(`${file}: every top-level folder has a row, every row exists`, () => {
      const rows = tablePaths(file, heading);
      const missingRows = topFolders.filter((name) => !rows.includes(name));
      const missingPaths = rows.filter((path) => !existsSync(join(REPO_ROOT, path)));
      assert.deepEqual({ missingRows, missingPaths }, { missingRows: [], missingPaths: [] });
    });
  }

  test("every package folder of the workspace is a row of docs/architecture.md", () => {
    const workspace = load(readFileSync(join(REPO_ROOT, "pnpm-workspace.yaml"), "utf8")) as {
      packages?: string[];
    };
    const packages = workspace.packages ?? [];
    const rows = tablePaths("docs/architecture.md", "## 1. Packages");
    assert.ok(packages.length >= 5, "pnpm-workspace.yaml lists the packages");
    for (const name of packages) {
      assert.ok(statSync(join(REPO_ROOT, name)).isDirectory(), name);
      assert.ok(rows.includes(name), `${name} has no row in docs/architecture.md`);
    }
  });
});
