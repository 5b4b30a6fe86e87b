import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from "pdf-lib";

/** What a person needs to read about an export: what it covers, whether it verified, who did what. */
export interface ExportSummary {
  from: string;
  to: string;
  createdAt: string;
  createdBy: string;
  records: number;
  firstSeq?: number;
  lastSeq?: number;
  prevHash: string;
  headHash: string;
  chainId: string;
  keyId: string;
  checkpoints: number;
  verification: string;
  byAction: ReadonlyMap<string, number>;
  byActor: ReadonlyMap<string, number>;
}

const PAGE = { width: 595.28, height: 841.89, margin: 50 };
const TOP_ACTORS = 25;

/**
 * A one- or two-page PDF with the standard Helvetica fonts (nothing to embed or download). Text
 * outside their WinAnsi character set is shown as "?" rather than failing the export.
 */
export async function renderSummaryPdf(summary: ExportSummary): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Audit trail ${summary.from} to ${summary.to}`);
  doc.setProducer("plantgraph");
  doc.setCreationDate(new Date(summary.createdAt));
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const mono = await doc.embedFont(StandardFonts.Courier);
  const writer = lineWriter(doc, regular);

  writer.line("Audit trail export", { font: bold, size: 18 });
  writer.gap();
  const facts: [string, string][] = [
    ["Period (UTC, end excluded)", `${summary.from} to ${summary.to}`],
    ["Records", summary.records === 0 ? "none" : `${summary.records} (seq ${summary.firstSeq} to ${summary.lastSeq})`],
    ["Verification", summary.verification],
    ["Signed checkpoints inside", String(summary.checkpoints)],
    ["Exported", `${summary.createdAt} by ${summary.createdBy}`],
  ];
  for (const [label, value] of facts) writer.pair(label, value, bold);
  writer.gap();
  writer.line("Chain", { font: bold, size: 12 });
  writer.line(`previous hash  ${summary.prevHash}`, { font: mono, size: 8 });
  writer.line(`head hash      ${summary.headHash}`, { font: mono, size: 8 });
  writer.line(`chain id       ${summary.chainId}`, { font: mono, size: 8 });
  writer.line(`hub key id     ${summary.keyId}`, { font: mono, size: 8 });
  writer.gap();
  writer.line("Records by action", { font: bold, size: 12 });
  for (const [action, count] of sortedByCount(summary.byAction)) writer.pair(action, String(count), regular);
  writer.gap();
  writer.line(`Records by actor${summary.byActor.size > TOP_ACTORS ? ` (the ${TOP_ACTORS} most active of ${summary.byActor.size})` : ""}`, { font: bold, size: 12 });
  for (const [actor, count] of sortedByCount(summary.byActor).slice(0, TOP_ACTORS)) writer.pair(actor, String(count), regular);
  writer.gap();
  writer.line("Check this export offline: plantgraph audit verify --bundle <this folder> --public-key <the hub's key>", { size: 8 });
  writer.line("manifest.json lists the SHA-256 of every file; manifest.sig is the hub's Ed25519 signature over it.", { size: 8 });
  return doc.save();
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
