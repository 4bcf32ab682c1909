export { EXIT, runExporter } from "./run.js";
export type { RunOptions } from "./run.js";
export { parseExporterConfig } from "./config.js";
export type { ExporterConfig } from "./config.js";
