export { EXIT, runExporter } from "./run.js";
export { parseExporterConfig } from "./config.js";
export { searchPaths } from "./otc/clouds-files.js";
