export type {
  AkSkCredentials,
  AuthMethod,
  CloudConfig,
  EndpointInterface,
  PasswordCredentials,
} from "./cloud-config.js";
export { loadCloudConfig } from "./load-cloud-config.js";
export type { SearchRoots } from "./clouds-files.js";
export { createOtcClient } from "./otc-client.js";
export type { OtcClient, OtcClientOptions } from "./otc-client.js";
export { CTS_PAGE_LIMIT } from "./trace-lister.js";
export type { InvalidTrace, ListedTrace, TraceWindow } from "./trace-lister.js";
export { resolveCtsEndpoint, ctsV3Url } from "./catalog.js";
export { Secret } from "./secret.js";
