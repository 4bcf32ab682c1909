import neo4j from "neo4j-driver";

/**
 * A Neo4j result value as plain JSON: integers as numbers (strings beyond 2^53), temporal
 * values as ISO 8601 text (instants in UTC), lists and maps recursively. Rules return scalars and lists only.
 */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (neo4j.isInt(value)) {
    return value.inSafeRange() ? value.toNumber() : value.toString();
  }
  // An instant is written in UTC whatever zone Neo4j attached to it.
  if (neo4j.isDateTime(value)) return value.toStandardDate().toISOString();
  if (
    neo4j.isDate(value) ||
    neo4j.isLocalDateTime(value) ||
    neo4j.isTime(value) ||
    neo4j.isLocalTime(value) ||
    neo4j.isDuration(value)
  ) {
    return value.toString();
  }
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
  }
  return value;
}

/** Parameters for Neo4j: whole numbers become Integers so Cypher can use them as counts. */
export function toNeo4jParameters(
  parameters: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const convert = (value: unknown): unknown => {
    if (typeof value === "number" && Number.isSafeInteger(value)) return neo4j.int(value);
    if (Array.isArray(value)) return value.map(convert);
    return value;
  };
  return Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, convert(v)]));
}
