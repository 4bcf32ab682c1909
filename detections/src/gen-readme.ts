import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadRules } from "./loader.js";
import { withRulesTable } from "./readme-table.js";

/** Rewrites the rule table in detections/README.md from the rule files (pnpm detect:readme). */
const README = fileURLToPath(new URL("../README.md", import.meta.url));
const rules = loadRules();
writeFileSync(README, withRulesTable(readFileSync(README, "utf8"), rules));
process.stdout.write(`detections/README.md: ${rules.length} rules\n`);
