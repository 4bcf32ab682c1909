export { EXIT, runExporter } from "./run.js";
export { parseExporterConfig } from "./config.js";
