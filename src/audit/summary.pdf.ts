import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from "pdf-lib";

/**
 * What a person reads first about a bundle: a title, the facts, then sections of label/value
 * pairs, fixed-width lines (hashes) or plain lines, and how to check it.
 */
export interface SummaryDocument {
  title: string;
  createdAt: string;
  facts: [string, string][];
  sections: SummarySection[];
  footer: string[];
}

export interface SummarySection {
  heading: string;
  pairs?: [string, string][];
  fixed?: string[];
  lines?: string[];
}

/** The footer of every bundle's summary. */
export const HOW_TO_VERIFY = [
  "Check this export offline: plantgraph audit verify --bundle <this folder> --public-key <the hub's key>",
  "manifest.json lists the SHA-256 of every file; manifest.sig is the hub's Ed25519 signature over it.",
];

const PAGE = { width: 595.28, height: 841.89, margin: 50 };

/**
 * A PDF with the standard Helvetica fonts (nothing to embed or download), as many pages as it
 * needs. Text outside their WinAnsi character set is shown as "?" rather than failing the export.
 */
export async function renderSummaryPdf(summary: SummaryDocument): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(summary.title);
  doc.setProducer("plantgraph");
  doc.setCreationDate(new Date(summary.createdAt));
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const mono = await doc.embedFont(StandardFonts.Courier);
  const writer = lineWriter(doc, regular);

  writer.line(summary.title, { font: bold, size: 18 });
  writer.gap();
  for (const [label, value] of summary.facts) writer.pair(label, value, bold);
  for (const section of summary.sections) {
    writer.gap();
    writer.line(section.heading, { font: bold, size: 12 });
    for (const [label, value] of section.pairs ?? []) writer.pair(label, value, regular);
    for (const text of section.fixed ?? []) writer.line(text, { font: mono, size: 8 });
    for (const text of section.lines ?? []) writer.line(text);
  }
  writer.gap();
  for (const text of summary.footer) writer.line(text, { size: 8 });
  return doc.save();
}

/** Counts as label/value pairs, largest first. */
export function countPairs(counts: ReadonlyMap<string, number>, top = Infinity): [string, string][] {
  return sortedByCount(counts)
    .slice(0, top)
    .map(([label, count]) => [label, String(count)]);
}

function sortedByCount(counts: ReadonlyMap<string, number>): [string, number][] {
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function lineWriter(doc: PDFDocument, regular: PDFFont) {
  let page: PDFPage = doc.addPage([PAGE.width, PAGE.height]);
  let y = PAGE.height - PAGE.margin;
  const room = (size: number) => {
    if (y - size * 1.4 >= PAGE.margin) return;
    page = doc.addPage([PAGE.width, PAGE.height]);
    y = PAGE.height - PAGE.margin;
  };
  const draw = (text: string, x: number, font: PDFFont, size: number) =>
    page.drawText(printable(text, font), { x, y, font, size, color: rgb(0.1, 0.1, 0.1) });
  return {
    line(text: string, options: { font?: PDFFont; size?: number } = {}) {
      const size = options.size ?? 10;
      room(size);
      y -= size * 1.4;
      draw(text, PAGE.margin, options.font ?? regular, size);
    },
    pair(label: string, value: string, labelFont: PDFFont) {
      room(10);
      y -= 14;
      draw(label, PAGE.margin, labelFont, 10);
      draw(value, PAGE.margin + 170, regular, 10);
    },
    gap() {
      y -= 8;
    },
  };
}

/** Characters the standard font cannot encode become "?"; long values are cut to fit a line. */
function printable(text: string, font: PDFFont): string {
  const known = new Set(font.getCharacterSet());
  const clean = [...text].map((c) => (known.has(c.codePointAt(0)!) ? c : "?")).join("");
  return clean.length > 110 ? `${clean.slice(0, 107)}...` : clean;
}
