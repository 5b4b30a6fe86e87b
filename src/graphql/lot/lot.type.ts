import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { lotStatuses, type LotStatus } from "../../../schema/db/lots.js";
import type { Severity } from "../../../schema/db/events.js";
import { traceDirections, type LotEventRow, type LotLinkRow, type ParameterSummary, type QualityResultRow, type TraceDirection } from "../../lots/lot.queries.js";
import type { LotRow } from "../../lots/lot.service.js";
import { upperEnum } from "../enum.js";
import { connectionTypes } from "../relay/connection.js";
import { SeverityEnum } from "../rule/rule.type.js";
import { UserError } from "../user-error.type.js";

export const LotStatusEnum = upperEnum(lotStatuses);
registerEnumType(LotStatusEnum, { name: "LotStatus", description: "running until endLot." });

export const TraceDirectionEnum = upperEnum(traceDirections);
registerEnumType(TraceDirectionEnum, {
  name: "TraceDirection",
  description: "BACKWARD: the lots it was made from, and theirs. FORWARD: the lots made from it, and theirs.",
});

@ObjectType("Lot", { description: "A lot (batch) made on one machine, with its genealogy, process parameters, quality results and events." })
export class Lot {
  @Field(() => ID)
  id!: string;

  dbId!: number;
  machineId!: number | null;
  row!: LotRow;

  @Field(() => String, { description: "The lot number people and labels use." })
  code!: string;

  @Field(() => String, { nullable: true })
  product!: string | null;

  @Field(() => LotStatusEnum)
  status!: LotStatus;

  @Field(() => String, { description: "The machine's path when the lot started; kept after the machine is deleted." })
  machinePath!: string;

  @Field(() => DateTimeResolver)
  startedAt!: Date;

  @Field(() => String)
  startedBy!: string;

  @Field(() => DateTimeResolver, { nullable: true })
  endedAt!: Date | null;

  @Field(() => String, { nullable: true })
  endedBy!: string | null;

  @Field(() => Float, { nullable: true, description: "Quantity made, given when it ended." })
  quantity!: number | null;

  @Field(() => String, { nullable: true })
  unit!: string | null;

  @Field(() => Boolean, { description: "Under retention hold: its readings are never expired." })
  onHold!: boolean;

  @Field(() => String, { nullable: true })
  holdReason!: string | null;
}

export const toLot = (row: LotRow) =>
  Object.assign(new Lot(), {
    id: String(row.id),
    dbId: row.id,
    machineId: row.machineId,
    row,
    code: row.code,
    product: row.product,
    status: row.status,
    machinePath: row.machinePath,
    startedAt: row.startedAt,
    startedBy: row.startedBy,
    endedAt: row.endedAt,
    endedBy: row.endedBy,
    quantity: row.quantity,
    unit: row.unit,
    onHold: row.onHold,
    holdReason: row.holdReason,
  });

export const { Edge: LotEdge, Connection: LotConnection } = connectionTypes(Lot, "Lot");

@ObjectType("LotLink", { description: "A parent lot consumed into a lot: one edge of the genealogy." })
export class LotLink {
  @Field(() => ID, { description: "The lot made." })
  lotId!: string;

  @Field(() => ID, { description: "The lot consumed." })
  parentLotId!: string;

  @Field(() => Float, { nullable: true })
  quantity!: number | null;

  @Field(() => String, { nullable: true })
  unit!: string | null;

  @Field(() => DateTimeResolver)
  consumedAt!: Date;

  @Field(() => String)
  recordedBy!: string;
}

export const toLotLink = (row: LotLinkRow) =>
  Object.assign(new LotLink(), {
    lotId: String(row.lotId),
    parentLotId: String(row.parentLotId),
    quantity: row.quantity,
    unit: row.unit,
    consumedAt: row.consumedAt,
    recordedBy: row.recordedBy,
  });

@ObjectType("QualityResult", { description: "A quality measurement or inspection of a lot." })
export class QualityResult {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  characteristic!: string;

  @Field(() => Float, { nullable: true })
  value!: number | null;

  @Field(() => String, { nullable: true })
  unit!: string | null;

  @Field(() => Boolean)
  passed!: boolean;

  @Field(() => String, { nullable: true })
  note!: string | null;

  @Field(() => DateTimeResolver)
  recordedAt!: Date;

  @Field(() => String)
  recordedBy!: string;
}

export const toQualityResult = (row: QualityResultRow) =>
  Object.assign(new QualityResult(), {
    id: String(row.id),
    characteristic: row.characteristic,
    value: row.value,
    unit: row.unit,
    passed: row.passed,
    note: row.note,
    recordedAt: row.recordedAt,
    recordedBy: row.recordedBy,
  });

@ObjectType("ProcessParameter", { description: "One data point of the lot's machine, summarized over the lot's window (null values: no readings)." })
export class ProcessParameter {
  @Field(() => String, { description: "The data point's name on the machine." })
  dataPoint!: string;

  @Field(() => String, { nullable: true })
  unit!: string | null;

  @Field(() => Int)
  count!: number;

  @Field(() => Float, { nullable: true })
  min!: number | null;

  @Field(() => Float, { nullable: true })
  max!: number | null;

  @Field(() => Float, { nullable: true })
  avg!: number | null;

  @Field(() => Float, { nullable: true, description: "The first reading in the window." })
  first!: number | null;

  @Field(() => Float, { nullable: true, description: "The last reading in the window." })
  last!: number | null;
}

export const toProcessParameter = (s: ParameterSummary) =>
  Object.assign(new ProcessParameter(), { dataPoint: s.name, unit: s.unit, count: s.count, min: s.min, max: s.max, avg: s.avg, first: s.first, last: s.last });

@ObjectType("LotEvent", { description: "An alarm, deviation or other event raised on the lot's machine while it ran." })
export class LotEvent {
  @Field(() => ID)
  id!: string;

  dbId!: number;
  alarmId!: number | null;

  @Field(() => String, { description: "e.g. alarm.raised, data.stale." })
  kind!: string;

  @Field(() => DateTimeResolver)
  at!: Date;

  @Field(() => SeverityEnum)
  severity!: Severity;

  @Field(() => String)
  message!: string;
}

export const toLotEvent = (row: LotEventRow) =>
  Object.assign(new LotEvent(), { id: String(row.id), dbId: row.id, alarmId: row.alarmId, kind: row.kind, at: row.at, severity: row.severity, message: row.message });

@ObjectType("LotOperator", { description: "Someone who worked on the lot, and what they did." })
export class LotOperator {
  @Field(() => String, { description: "The identity, as the audit trail names it." })
  identity!: string;

  @Field(() => [String], { description: "started, ended, consumed, quality, hold." })
  did!: string[];
}

@ObjectType("TracedLot")
export class TracedLot {
  @Field(() => Int, { description: "Steps from the lot traced (0: itself)." })
  depth!: number;

  @Field(() => Lot)
  lot!: Lot;
}

@ObjectType("Trace", { description: "A lot's genealogy in one direction: the lots (the ones in your sites) and the links between them." })
export class Trace {
  @Field(() => TraceDirectionEnum)
  direction!: TraceDirection;

  @Field(() => [TracedLot], { description: "The lot traced first, then by depth." })
  lots!: TracedLot[];

  @Field(() => [LotLink])
  links!: LotLink[];
}

@ObjectType("LotPayload")
export class LotPayload {
  @Field(() => Lot, { nullable: true })
  lot?: Lot;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("LotExport", { description: "A lot record bundle written on the hub's disk (AUDIT_EXPORT_DIR)." })
export class LotExport {
  @Field(() => String, { description: "The bundle's directory on the hub." })
  directory!: string;

  @Field(() => Int, { description: "Lots in the genealogy exported, the lot itself included." })
  lots!: number;

  @Field(() => Int, { description: "Audit records about the lot and its tasks." })
  auditRecords!: number;

  @Field(() => String, { description: "SHA-256 of manifest.json, to write down beside the bundle." })
  manifestSha256!: string;
}

@ObjectType("ExportLotRecordPayload")
export class ExportLotRecordPayload {
  @Field(() => LotExport, { nullable: true })
  export?: LotExport;

  @Field(() => [UserError])
  errors!: UserError[];
}
