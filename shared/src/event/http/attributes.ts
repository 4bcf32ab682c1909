/**
 * The one table of CloudEvents 1.0 attribute names (docs/event-contract.md section 2): which
 * context attributes an event must carry, which are timestamps, which header carries each in
 * binary mode, and which names an extension may not take. The encoder, the decoder and the
 * exporter's K_CE_OVERRIDES check all read it.
 */

interface ContextAttribute {
  readonly required: boolean;
  /** The spec's type; a `timestamp` is an RFC 3339 date-time. */
  readonly type: "string" | "uri-reference" | "uri" | "timestamp";
  /** Its binary-mode header. */
  readonly header: string;
}

export const CONTEXT_ATTRIBUTES = {
  specversion: { required: true, type: "string", header: "ce-specversion" },
  id: { required: true, type: "string", header: "ce-id" },
  source: { required: true, type: "uri-reference", header: "ce-source" },
  type: { required: true, type: "string", header: "ce-type" },
  datacontenttype: { required: false, type: "string", header: "content-type" },
  dataschema: { required: false, type: "uri", header: "ce-dataschema" },
  subject: { required: false, type: "string", header: "ce-subject" },
  time: { required: false, type: "timestamp", header: "ce-time" },
} as const satisfies Readonly<Record<string, ContextAttribute>>;

export type ContextAttributeName = keyof typeof CONTEXT_ATTRIBUTES;

/** The binary-mode header prefix of every attribute but `datacontenttype`. */
export const HEADER_PREFIX = "ce-";

/** The event's data in the JSON format; in binary mode the body, never a header. */
const DATA_MEMBERS = ["data", "data_base64"] as const;

/** CloudEvents 0.3 names; the cloudevents package refuses `schemaurl` on a 1.0 event. */
const V03_ATTRIBUTES = ["schemaurl", "datacontentencoding"] as const;

/**
 * Members of the cloudevents package's event object: an extension named `validate` replaces
 * the method the package calls on every event.
 */
const SDK_EVENT_MEMBERS = ["validate", "emit", "constructor"] as const;

const contextNames = Object.keys(CONTEXT_ATTRIBUTES);

/** Names that are context attributes or data, never extensions, in either format. */
const NOT_EXTENSIONS: ReadonlySet<string> = new Set([...contextNames, ...DATA_MEMBERS]);

/** True when `name` is an extension, not a context attribute or a data member. */
export const isExtensionName = (name: string): boolean => !NOT_EXTENSIONS.has(name);

/** Attribute names that are not a `ce-` header in binary mode. */
export const NOT_CE_HEADERS: ReadonlySet<string> = new Set([
  ...DATA_MEMBERS,
  ...contextNames.filter(
    (name) => CONTEXT_ATTRIBUTES[name as ContextAttributeName].header !== `${HEADER_PREFIX}${name}`,
  ),
]);

/** The headers of the required attributes: any of them marks a binary-mode request. */
export const REQUIRED_HEADERS: readonly string[] = Object.values(CONTEXT_ATTRIBUTES)
  .filter((attribute) => attribute.required)
  .map((attribute) => attribute.header);

/** Names an extension must not take (every version's attributes, data, the SDK's members). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ...NOT_EXTENSIONS,
  ...V03_ATTRIBUTES,
  ...SDK_EVENT_MEMBERS,
]);

/** A legal attribute name on receipt: lower-case letters and digits (spec, "Attribute Naming"). */
export const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** An extension name this project sends: also at most 20 characters, as the spec advises. */
export const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
