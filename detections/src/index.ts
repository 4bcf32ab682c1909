export { loadFixtures, loadRules } from "./loader.js";
export { runRule } from "./runner.js";
export { placeCase } from "./fixtures.js";
export { runDetections } from "./detect.js";
export { summaryReport } from "./report.js";
