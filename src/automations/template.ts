/**
 * `{{ path.to.value }}` placeholders, nothing else: no logic, no calls, no prototype walks, so an
 * automation's text can never run code. A missing value renders as an empty string.
 */
const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;

export type TemplateContext = Readonly<Record<string, unknown>>;

export function renderTemplate(template: string, context: TemplateContext): string {
  return template.replace(placeholder, (_, path: string) => format(lookup(context, path.split("."))));
}

function lookup(value: unknown, keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function format(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
