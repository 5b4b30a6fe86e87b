import { parse } from "csv-parse/sync";
import { DateTime } from "luxon";

/** One row of an order CSV as read: machine and line still paths, due still text. */
export interface OrderCsvRow {
  line: number;
  number: string;
  product: string;
  quantity: number;
  due: string;
  machine?: string;
  lineName?: string;
  sequence: number;
}

export interface CsvProblem {
  line: number;
  column: string;
  message: string;
}

export const MAX_IMPORT_ROWS = 10_000;
const columns = ["number", "product", "quantity", "due", "machine", "line", "sequence"] as const;

/**
 * Reads an order CSV: a header naming `number, product, quantity, due` and `machine` (a machine
 * path) or `line` (a line path), `sequence` optional. Pure: every problem with its line, or the rows.
 */
export function readOrderCsv(text: string): { rows: OrderCsvRow[]; problems: CsvProblem[] } {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true, to: MAX_IMPORT_ROWS + 1 });
  } catch (error) {
    return { rows: [], problems: [{ line: (error as { lines?: number }).lines ?? 1, column: "", message: (error as Error).message }] };
  }
  const problems: CsvProblem[] = [];
  if (records.length > MAX_IMPORT_ROWS) problems.push({ line: MAX_IMPORT_ROWS + 2, column: "", message: `at most ${MAX_IMPORT_ROWS} orders at once` });
  const header = Object.keys(records[0] ?? {});
  for (const unknown of header.filter((h) => !(columns as readonly string[]).includes(h))) problems.push({ line: 1, column: unknown, message: `unknown column "${unknown}"; expected ${columns.join(", ")}` });
  const rows: OrderCsvRow[] = [];
  records.slice(0, MAX_IMPORT_ROWS).forEach((r, i) => {
    const line = i + 2;
    const problem = (column: string, message: string) => problems.push({ line, column, message });
    const quantity = Number(r.quantity);
    const sequence = r.sequence ? Number(r.sequence) : 0;
    if (!r.number) problem("number", "missing");
    if (!r.product) problem("product", "missing");
    if (!Number.isInteger(quantity) || quantity <= 0) problem("quantity", "expected a whole number above 0");
    if (!Number.isInteger(sequence) || sequence < 0) problem("sequence", "expected a whole number, 0 or more");
    if (!r.due || !DateTime.fromISO(r.due, { setZone: true }).isValid || !/[zZ]|[+-]\d{2}:?\d{2}$/.test(r.due)) problem("due", "expected an ISO 8601 time with its offset, e.g. 2026-12-01T14:00:00+01:00");
    if (!r.machine && !r.line) problem("machine", "expected a machine path or a line path");
    rows.push({ line, number: r.number ?? "", product: r.product ?? "", quantity, due: r.due ?? "", machine: r.machine || undefined, lineName: r.line || undefined, sequence });
  });
  return { rows, problems };
}
