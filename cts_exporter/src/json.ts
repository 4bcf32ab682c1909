import type { z } from "zod";

/**
 * JSON text read through a schema: the parsed value, or undefined when the text is not JSON or
 * not of the schema's shape; the caller says what was wrong where.
 */
export function parseJsonAs<T extends z.ZodType>(schema: T, text: string): z.output<T> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
