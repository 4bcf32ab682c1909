import { inspect } from "node:util";

/**
 * A credential that cannot end up in a log line by accident: JSON, string conversion and
 * `util.inspect` (console, pino's fallbacks, assertion messages) all print `[Redacted]`. Only
 * the code that builds an IAM request or a signature calls {@link Secret.reveal}.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself, for the one place that must send or sign with it. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return "[Redacted]";
  }

  toString(): string {
    return "[Redacted]";
  }

  [inspect.custom](): string {
    return "[Redacted]";
  }
}
