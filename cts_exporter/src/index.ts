export { EXIT } from "./exit-codes.js";
export { runExporter } from "./run.js";
export { parseExporterConfig } from "./config.js";
export { searchPaths } from "./cloud-config/index.js";
