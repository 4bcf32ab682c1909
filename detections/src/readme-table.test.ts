import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { loadRules } from "./loader.js";
import { withRulesTable } from "./readme-table.js";

test("detections/README.md lists every rule as the rule files say (pnpm detect:readme)", () => {
  const path = fileURLToPath(new URL("../README.md", import.meta.url));
  const readme = readFileSync(path, "utf8");
  const rules = loadRules();
  assert.equal(
    readme,
    withRulesTable(readme, rules),
    "run pnpm detect:readme and commit the result",
  );
  for (const rule of rules) assert.ok(readme.includes(`[${rule.id}](rules/${rule.id}.yaml)`));
});
