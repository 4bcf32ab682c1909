export { startSimulator } from "./simulator.js";
export type { Simulator } from "./simulator.js";
export { manualClock, offsetClock, systemClock } from "./clock.js";
export type { Clock, ManualClock } from "./clock.js";
export { cloudsYaml } from "./clouds-yaml.js";
export { ODD_NAMES } from "./generator/odd-names.js";
export type { SimulatorOptions } from "./options.js";
