/**
 * JSON text that is the same for equal values whatever the order of object keys: jsonb stores
 * keys in its own order, so content read back must be compared this way, not by JSON.stringify.
 * Object keys sorted by UTF-16 code units, except that integer-like keys ("0", "17") come first in
 * numeric order, as JavaScript enumerates them; otherwise exactly JSON.stringify's output (undefined
 * members left out, undefined in arrays as null, Dates as ISO strings). Written out directly
 * rather than by sorting copies: audit verification runs it on every record.
 */
export function canonicalJson(value: unknown): string {
  return write(value) as string;
}

function write(value: unknown): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return quoted(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt");
    case "object":
      break;
    default:
      return undefined;
  }
  if (value instanceof Date) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => write(item) ?? "null").join(",")}]`;
  const record = value as Record<string, unknown>;
  let members = "";
  for (const key of sortedKeys(record)) {
    const text = write(record[key]);
    if (text === undefined) continue;
    members += `${members === "" ? "" : ","}${quoted(key)}:${text}`;
  }
  return `{${members}}`;
}

/** Object.keys lists integer-like keys first, ascending; the other keys are sorted after them. */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  let integers = 0;
  while (integers < keys.length && ARRAY_INDEX.test(keys[integers]!) && Number(keys[integers]) < 4_294_967_295) integers += 1;
  return integers === 0 ? keys.sort() : [...keys.slice(0, integers), ...keys.slice(integers).sort()];
}

const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

/** Characters JSON.stringify escapes: quote, backslash, controls, and lone surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Most strings need no escaping: quoting them directly spares a call into JSON.stringify. */
function quoted(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}
