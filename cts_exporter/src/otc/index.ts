export type { CloudConfig } from "./cloud-config.js";
export { loadCloudConfig } from "./load-cloud-config.js";
export { createOtcClient, forProject } from "./otc-client.js";
export type { OtcClient, OtcClientOptions } from "./otc-client.js";
export type { InvalidTrace } from "./trace-lister.js";
