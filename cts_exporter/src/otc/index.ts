export { createOtcClient, forProject } from "./otc-client.js";
export type { OtcClient, OtcClientOptions } from "./otc-client.js";
export type { InvalidTrace } from "./trace-lister.js";
