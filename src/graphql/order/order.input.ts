import { DateTimeResolver } from "graphql-scalars";
import { ArgsType, Field, ID, InputType, Int, registerEnumType } from "type-graphql";
import { capacityHorizons, type CapacityHorizon } from "../../capacity/capacity.js";
import { upperEnum } from "../enum.js";

@InputType("SaveProductionOrderInput", { description: "Creates the order, or changes the one with this number." })
export class SaveProductionOrderInput {
  @Field(() => String)
  number!: string;

  @Field(() => String)
  product!: string;

  @Field(() => Int)
  quantity!: number;

  @Field(() => DateTimeResolver)
  dueAt!: Date;

  @Field(() => ID, { nullable: true, description: "The machine that makes it; or give a line." })
  machineId?: string;

  @Field(() => ID, { nullable: true, description: "A line, without a machine: the order runs on all its machines at the pace of the slowest, after their own queues." })
  lineId?: string;

  @Field(() => Int, { nullable: true, description: "Place in the machine's queue (default 0); lower runs first." })
  sequence?: number;

  @Field(() => Boolean, { nullable: true, description: "True cancels the order." })
  cancelled?: boolean;
}

export const CapacityHorizonEnum = upperEnum(capacityHorizons);
registerEnumType(CapacityHorizonEnum, { name: "CapacityHorizon", description: "SHIFT: the shift in progress; TODAY: the rest of the local day; WEEK: the rest of the local week." });

@ArgsType()
export class CapacityArgs {
  @Field(() => ID, { description: "A line (or a machine, area or site)." })
  assetId!: string;

  @Field(() => DateTimeResolver, { nullable: true })
  from?: Date;

  @Field(() => DateTimeResolver, { nullable: true })
  to?: Date;

  @Field(() => CapacityHorizonEnum, { nullable: true, description: "Instead of from and to." })
  horizon?: CapacityHorizon;
}

@ArgsType()
export class SuggestMachinesArgs {
  @Field(() => String)
  product!: string;

  @Field(() => Int)
  quantity!: number;

  @Field(() => DateTimeResolver)
  due!: Date;

  @Field(() => ID, { nullable: true, description: "Only machines under this site, area or line; all of your sites' when absent." })
  assetId?: string;
}
