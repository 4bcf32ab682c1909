import { z } from "zod";

/**
 * A CTS trace as the v3 API returns it, parsed tolerantly (docs/otc-api-notes.md sections 3 and 6): the docs say
 * string where the service sometimes sends numbers or objects, v1 encodes `user` as a JSON string,
 * and SystemAction traces carry no user or IP. Unknown fields are kept, because the CloudEvent's
 * `data` is the trace exactly as CTS returned it.
 */
const optionalText = z.string().nullish();
/**
 * Text, or a JSON object or array passed through as the very same value: z.record would rebuild
 * objects by assignment, which turns an own "__proto__" key (JSON.parse makes one) into a
 * prototype and loses it from what the sink stores.
 */
const jsonish = z
  .union([
    z.string(),
    z.custom<Record<string, unknown> | unknown[]>(
      (value) => typeof value === "object" && value !== null,
      "expected text, a JSON object or a JSON array",
    ),
  ])
  .nullish();

const CtsDomain = z.looseObject({ id: optionalText, name: optionalText });

const CtsUser = z.looseObject({
  id: optionalText,
  name: optionalText,
  domain: CtsDomain.nullish(),
});
type CtsUser = z.infer<typeof CtsUser>;

/** v1 sends `user` as JSON text; decode it so every version yields the same shape. */
const userField = z
  .union([
    CtsUser,
    z.string().transform((text, ctx) => {
      if (text.trim() === "") return null;
      try {
        return CtsUser.parse(JSON.parse(text));
      } catch {
        ctx.addIssue({
          code: "custom",
          message: "user is a string but not a JSON-encoded user object",
        });
        return z.NEVER;
      }
    }),
  ])
  .nullish();

/** Epoch milliseconds; numeric strings are accepted because typed-as-long fields drift too. */
const epochMillis = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d{1,16}$/, "expected epoch milliseconds")
    .transform(Number),
]);

export const CtsTrace = z.looseObject({
  trace_id: z.string().min(1).max(256),
  trace_name: z.string().max(256).nullish(),
  trace_rating: optionalText,
  trace_type: optionalText,
  request: jsonish,
  response: jsonish,
  code: z.union([z.string(), z.number()]).nullish(),
  api_version: optionalText,
  message: jsonish,
  record_time: epochMillis.nullish(),
  time: epochMillis,
  user: userField,
  service_type: optionalText,
  resource_type: optionalText,
  resource_name: optionalText,
  resource_id: optionalText,
  source_ip: optionalText,
  request_id: optionalText,
  location_info: optionalText,
  endpoint: optionalText,
  resource_url: optionalText,
});
/** The parsed (normalised) trace. */
export type CtsTrace = z.infer<typeof CtsTrace>;
/** A trace as it travels: CTS's own JSON object, unknown fields included. */
export type RawCtsTrace = Record<string, unknown>;

/** One page of `GET /v3/{project_id}/traces`. Traces are validated one by one by the caller. */
export const CtsTracePage = z.looseObject({
  traces: z.array(z.unknown()).nullish(),
  meta_data: z
    .looseObject({
      count: z.union([z.number(), z.string()]).nullish(),
      marker: z.string().nullish(),
    })
    .nullish(),
});
export type CtsTracePage = z.infer<typeof CtsTracePage>;

/** `code` is a number or a string on the wire; downstream it is always text. */
export function codeAsString(code: CtsTrace["code"]): string | undefined {
  if (code === null || code === undefined) return undefined;
  return typeof code === "number" ? String(code) : code;
}
