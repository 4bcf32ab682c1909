/**
 * JSON text of a parsed JSON value, cut after `maxChars` characters, built without recursion.
 * JSON.stringify throws a RangeError past a few thousand nesting levels, and a trace's `request`
 * may nest that deep (10,000 levels fit in a 60 KB body); the sink stores a
 * bounded prefix of it instead of failing the whole request.
 */
type Frame =
  | { readonly kind: "array"; readonly items: readonly unknown[]; index: number }
  | {
      readonly kind: "object";
      readonly source: Record<string, unknown>;
      readonly keys: string[];
      index: number;
    };

function scalar(value: unknown): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return JSON.stringify(value);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    default:
      return typeof value === "bigint" ? String(value) : undefined;
  }
}

/** Same text as JSON.stringify(value) up to `maxChars`; `truncated` when it was longer. */
export function boundedJson(
  value: unknown,
  maxChars: number,
): { text: string; truncated: boolean } {
  const out: string[] = [];
  let length = 0;
  const emit = (piece: string) => {
    out.push(piece);
    length += piece.length;
  };
  const stack: Frame[] = [];
  // Opens a container (pushing a frame) or writes a scalar; `undefined` in arrays is null.
  const open = (item: unknown, inArray: boolean) => {
    if (typeof item === "object" && item !== null) {
      if (Array.isArray(item)) {
        emit("[");
        stack.push({ kind: "array", items: item, index: 0 });
      } else {
        const source = item as Record<string, unknown>;
        emit("{");
        stack.push({ kind: "object", source, keys: Object.keys(source), index: 0 });
      }
      return;
    }
    emit(scalar(item) ?? (inArray ? "null" : ""));
  };
  open(value, false);
  while (stack.length > 0 && length <= maxChars) {
    const frame = stack[stack.length - 1];
    if (frame === undefined) break;
    if (frame.kind === "array") {
      if (frame.index >= frame.items.length) {
        emit("]");
        stack.pop();
        continue;
      }
      if (frame.index > 0) emit(",");
      open(frame.items[frame.index++], true);
      continue;
    }
    // Objects skip members whose value JSON cannot represent, as JSON.stringify does.
    let key: string | undefined;
    while (frame.index < frame.keys.length) {
      const candidate = frame.keys[frame.index++] ?? "";
      const member = frame.source[candidate];
      if (typeof member === "object" || scalar(member) !== undefined) {
        key = candidate;
        break;
      }
    }
    if (key === undefined) {
      emit("}");
      stack.pop();
      continue;
    }
    if (out[out.length - 1] !== "{") emit(",");
    emit(`${JSON.stringify(key)}:`);
    open(frame.source[key], false);
  }
  const text = out.join("");
  if (text.length <= maxChars && stack.length === 0) return { text, truncated: false };
  let end = Math.min(maxChars, text.length);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return { text: text.slice(0, end), truncated: true };
}
