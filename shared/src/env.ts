/** Environment variables as `process.env` holds them, read-only; tests pass their own object. */
export type Env = Readonly<Record<string, string | undefined>>;
