import { ArgsType, Field, ID, InputType } from "type-graphql";
import type { LotStatus } from "../../../schema/db/lots.js";
import type { TraceDirection } from "../../lots/lot.queries.js";
import { PageArgs } from "../relay/connection.js";
import { LotStatusEnum, TraceDirectionEnum } from "./lot.type.js";

@InputType("LotFilter")
export class LotFilter {
  @Field(() => ID, { nullable: true })
  machineId?: string;

  @Field(() => String, { nullable: true })
  code?: string;

  @Field(() => LotStatusEnum, { nullable: true })
  status?: LotStatus;

  @Field(() => Boolean, { nullable: true })
  onHold?: boolean;
}

@ArgsType()
export class LotsArgs extends PageArgs {
  @Field(() => LotFilter, { nullable: true })
  filter?: LotFilter;
}

@ArgsType()
export class TraceArgs {
  @Field(() => ID)
  lotId!: string;

  @Field(() => TraceDirectionEnum)
  direction!: TraceDirection;
}

@ArgsType()
export class TraceUpdatedArgs {
  @Field(() => ID, { nullable: true, description: "Changes to this lot or any lot of its genealogy; every lot of your sites when absent." })
  lotId?: string;
}
