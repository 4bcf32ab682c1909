/**
 * Resource names that break naive pipelines: non-ASCII scripts, quotes, percent signs, header
 * and Cypher metacharacters, control characters, emoji, right-to-left text, zero-width
 * characters and a name at the 255-character limit. Downstream code must carry them intact.
 */
export const ODD_NAMES: readonly string[] = [
  "Prüfserver-東京-01",
  'web server "prod"',
  "100% ready",
  "emoji 🚀 node",
  "tab\there",
  "line\nbreak",
  "slash/and\\backslash",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "}) DETACH DELETE n //",
  "zero\u200bwidth",
  "שלום-עולם",
  "Ωmega σ ∑",
  "ce-id: forged",
  "trailing space ",
  " leading space",
  "$(rm -rf /)",
  "{{template}}",
  "a".repeat(255),
  "comma,semi;colon:pipe|",
];
