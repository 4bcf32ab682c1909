import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, test } from "node:test";
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
