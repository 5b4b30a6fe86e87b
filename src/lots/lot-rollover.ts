import { and, count, desc, eq, sql } from "drizzle-orm";
import { DateTime } from "luxon";
import { lots } from "../../schema/db/lots.js";
import { renderTemplate } from "../automations/template.js";
import type { Tx } from "../db/database.js";
import type { MachineContext } from "../events/event-context.js";
import { endLot, LotRejected, startLot, startLotSpec, type ChangedBy, type LotRow } from "./lot.service.js";

/** Codes tried past the first free-looking one before giving up (lots entered by hand may use them). */
const MAX_CODE_TRIES = 100;

export interface LotRollover {
  machine: MachineContext;
  at: Date;
  /** `{{machine.name}}`, `{{machine.path}}`, `{{date}}` (the site's local date), `{{seq}}` (that code's next number). */
  codeTemplate: string;
  product?: string;
  /** Parts the batch made: the ended lot's quantity. */
  quantity?: number;
  by: ChangedBy;
}

/**
 * A batch completed on a machine: its running lot ends (with the batch's quantity) and the next
 * one starts, in the caller's transaction, audited as lot.ended and lot.started like manual lots.
 */
export async function rollLot(tx: Tx, r: LotRollover): Promise<{ ended?: LotRow; started: LotRow }> {
  const [running] = await tx
    .select()
    .from(lots)
    .where(and(eq(lots.machineId, r.machine.id), eq(lots.status, "running")))
    .orderBy(desc(lots.startedAt), desc(lots.id))
    .limit(1);
  const ended = running && (await endLot(tx, running, { endedAt: r.at, quantity: r.quantity, unit: r.quantity === undefined ? undefined : "parts" }, r.by));
  const spec = startLotSpec.safeParse({ code: await nextCode(tx, r), product: r.product ?? running?.product ?? undefined, startedAt: r.at });
  if (!spec.success) throw new LotRejected("code", `the lot code from "${r.codeTemplate}": ${spec.error.issues[0]!.message}`);
  const started = await startLot(tx, { id: r.machine.id, path: r.machine.path }, spec.data, r.by);
  return { ended, started };
}

/** The template rendered with the first `seq` after the lots whose codes it already made. */
async function nextCode(tx: Tx, r: LotRollover): Promise<string> {
  const date = DateTime.fromJSDate(r.at, { zone: r.machine.siteTimezone }).toISODate() ?? r.at.toISOString().slice(0, 10);
  const render = (seq: string) => renderTemplate(r.codeTemplate, { machine: { name: r.machine.name, path: r.machine.path, line: r.machine.line, site: r.machine.site }, date, seq }).trim();
  const SEQ = "\u0000";
  const parts = render(SEQ).split(SEQ);
  if (parts.length === 1) return render("");
  const pattern = parts.map((part) => part.replace(/[\\%_]/g, (c) => `\\${c}`)).join("%");
  const [made] = await tx.select({ n: count() }).from(lots).where(sql`${lots.code} like ${pattern}`);
  for (let seq = (made?.n ?? 0) + 1, tries = 0; tries < MAX_CODE_TRIES; seq++, tries++) {
    const code = render(String(seq));
    const [taken] = await tx.select({ id: lots.id }).from(lots).where(eq(lots.code, code));
    if (!taken) return code;
  }
  throw new LotRejected("code", `no free lot code from "${r.codeTemplate}" after ${MAX_CODE_TRIES} tries`);
}
