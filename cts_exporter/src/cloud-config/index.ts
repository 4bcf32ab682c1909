export type {
  AkSkCredentials,
  AuthMethod,
  CloudConfig,
  EndpointInterface,
  PasswordCredentials,
} from "./cloud-config.js";
export { searchPaths } from "./clouds-files.js";
export { loadCloudConfig } from "./load-cloud-config.js";
export { describeSource } from "./resolve-cloud.js";
export { Secret } from "./secret.js";
