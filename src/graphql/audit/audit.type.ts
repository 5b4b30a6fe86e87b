import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { auditActions, type AuditAction } from "../../audit/audit.js";
import type { TamperKind } from "../../audit/chain.verifier.js";
import type { TrailReport } from "../../audit/trail.verify.js";
import type { AuditEntryRow } from "../../audit/audit-entry.queries.js";
import { upperEnum } from "../enum.js";
import { connectionTypes } from "../relay/connection.js";
import { UserError } from "../user-error.type.js";

export const AuditActionEnum = upperEnum(auditActions);
registerEnumType(AuditActionEnum, { name: "AuditAction", description: "The closed list of audited actions." });

const tamperKinds = ["edited", "deleted", "inserted", "reordered"] as const satisfies readonly TamperKind[];
export const TamperKindEnum = upperEnum(tamperKinds);
registerEnumType(TamperKindEnum, { name: "TamperKind" });

@ObjectType("AuditEntry", { description: "One record of the audit trail: who did what to which record, when, old and new values, why." })
export class AuditEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { nullable: true, description: "Position in the hash chain (commit order); null for records older than the chain." })
  seq!: number | null;

  @Field(() => DateTimeResolver)
  at!: Date;

  @Field(() => String, { description: "user:<subject>, key:<id>, system:<component>, tool:<integration>:<person>, plant-file." })
  actor!: string;

  @Field(() => AuditActionEnum)
  action!: AuditAction;

  @Field(() => String)
  entityType!: string;

  @Field(() => String)
  entityId!: string;

  @Field(() => JSONResolver, { nullable: true })
  oldValue!: Record<string, unknown> | null;

  @Field(() => JSONResolver, { nullable: true })
  newValue!: Record<string, unknown> | null;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => String, { nullable: true, description: "SHA-256 over the previous record's hash and this record's content hash." })
  hash!: string | null;

  @Field(() => String, { nullable: true })
  prevHash!: string | null;
}

export const { Edge: AuditEntryEdge, Connection: AuditEntryConnection } = connectionTypes(AuditEntry, "AuditEntry");

export const toAuditEntry = (row: AuditEntryRow): AuditEntry =>
  Object.assign(new AuditEntry(), {
    id: String(row.id),
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    entityType: row.entityType,
    entityId: row.entityId,
    oldValue: row.oldValue,
    newValue: row.newValue,
    reason: row.reason,
    requestId: row.requestId,
    hash: row.hash,
    prevHash: row.prevHash,
  });

@ObjectType("AuditProblem", { description: "The first record found edited, deleted, inserted or reordered." })
export class AuditProblem {
  @Field(() => TamperKindEnum)
  kind!: TamperKind;

  @Field(() => Int, { description: "Chain position of the record (for DELETED: the first one missing)." })
  seq!: number;

  @Field(() => ID, { nullable: true })
  id!: string | null;

  @Field(() => String)
  detail!: string;
}

@ObjectType("AuditVerification")
export class AuditVerification {
  @Field(() => Boolean)
  ok!: boolean;

  @Field(() => Int, { description: "Records recomputed." })
  records!: number;

  @Field(() => Int, { nullable: true })
  lastSeq!: number | null;

  @Field(() => String)
  headHash!: string;

  @Field(() => Int, { description: "Signed checkpoints that matched the chain." })
  checkpointsMatched!: number;

  @Field(() => [String], { description: "Checkpoint files whose signature the hub's key does not verify." })
  checkpointsRejected!: string[];

  @Field(() => Int, { description: "Signed checkpoints of other chains in the directory: another database, or this one's chain replaced." })
  checkpointsOfOtherChains!: number;

  @Field(() => Int, { description: "Records appended but not linked into the chain yet." })
  pending!: number;

  @Field(() => Int, { description: "Records older than the chain, not covered by it." })
  legacy!: number;

  @Field(() => AuditProblem, { nullable: true })
  problem!: AuditProblem | null;
}

export const toAuditVerification = (report: TrailReport): AuditVerification =>
  Object.assign(new AuditVerification(), {
    ok: report.ok,
    records: report.records,
    lastSeq: report.lastSeq ?? null,
    headHash: report.headHash,
    checkpointsMatched: report.checkpointsMatched,
    checkpointsRejected: report.checkpointsRejected,
    checkpointsOfOtherChains: report.checkpointsOfOtherChains,
    pending: report.pending,
    legacy: report.legacy,
    problem: report.problem ? Object.assign(new AuditProblem(), { ...report.problem, id: report.problem.id === undefined ? null : String(report.problem.id) }) : null,
  });

@ObjectType("AuditExport", { description: "A bundle written on the hub's disk (AUDIT_EXPORT_DIR)." })
export class AuditExport {
  @Field(() => String, { description: "The bundle's directory on the hub." })
  directory!: string;

  @Field(() => Int)
  records!: number;

  @Field(() => String, { description: "SHA-256 of manifest.json, to write down beside the bundle." })
  manifestSha256!: string;

  @Field(() => Boolean, { description: "Whether the exported chain verified while it was written." })
  verified!: boolean;
}

@ObjectType("ExportAuditTrailPayload")
export class ExportAuditTrailPayload {
  @Field(() => AuditExport, { nullable: true })
  export?: AuditExport;

  @Field(() => [UserError])
  errors!: UserError[];
}
