export { startSimulator } from "./simulator.js";
export type { Simulator, SimulatorStats } from "./simulator.js";
export { manualClock, offsetClock, systemClock } from "./clock.js";
export type { Clock, ManualClock } from "./clock.js";
export { identityFor } from "./identity.js";
export type { SimIdentity } from "./identity.js";
export { cloudsYaml } from "./clouds-yaml.js";
export { ODD_NAMES } from "./generator/odd-names.js";
export { DEFAULTS } from "./options.js";
export type {
  FaultKind,
  FaultOptions,
  GeneratorOptions,
  PreloadOptions,
  ScenarioGroup,
  SimulatorOptions,
} from "./options.js";
