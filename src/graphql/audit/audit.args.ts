import { DateTimeResolver } from "graphql-scalars";
import { ArgsType, Field, InputType } from "type-graphql";
import type { AuditAction } from "../../audit/audit.js";
import { PageArgs } from "../relay/connection.js";
import { AuditActionEnum } from "./audit.type.js";

@InputType("AuditEntryFilter")
export class AuditEntryFilterInput {
  @Field(() => String, { nullable: true, description: "e.g. task, alarm, integration, security." })
  entityType?: string | null;

  @Field(() => String, { nullable: true })
  entityId?: string | null;

  @Field(() => String, { nullable: true, description: "Exact actor, e.g. key:12." })
  actor?: string | null;

  @Field(() => AuditActionEnum, { nullable: true })
  action?: AuditAction | null;

  @Field(() => DateTimeResolver, { nullable: true, description: "Records at or after this time." })
  from?: Date | null;

  @Field(() => DateTimeResolver, { nullable: true, description: "Records before this time." })
  to?: Date | null;
}

@ArgsType()
export class AuditEntriesArgs extends PageArgs {
  @Field(() => AuditEntryFilterInput, { nullable: true })
  filter?: AuditEntryFilterInput | null;
}

@ArgsType()
export class AuditAppendedArgs {
  @Field(() => String, { nullable: true, description: "Only records about this entity type." })
  entityType?: string | null;
}

@ArgsType()
export class ExportAuditTrailArgs {
  @Field(() => DateTimeResolver, { description: "Start of the period (included)." })
  from!: Date;

  @Field(() => DateTimeResolver, { description: "End of the period (excluded)." })
  to!: Date;
}
