import { Field, Float, ID, InputType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";

@InputType("StartLotInput", { description: "Starts a lot on a machine." })
export class StartLotInput {
  @Field(() => ID)
  machineId!: string;

  @Field(() => String, { description: "The lot number; unique in the hub." })
  code!: string;

  @Field(() => String, { nullable: true })
  product?: string;

  @Field(() => DateTimeResolver, { nullable: true, description: "Now when absent." })
  startedAt?: Date;
}

@InputType("EndLotInput")
export class EndLotInput {
  @Field(() => ID)
  id!: string;

  @Field(() => DateTimeResolver, { nullable: true, description: "Now when absent." })
  endedAt?: Date;

  @Field(() => Float, { nullable: true, description: "Quantity made." })
  quantity?: number;

  @Field(() => String, { nullable: true })
  unit?: string;
}

@InputType("AddLotComponentInput", { description: "Records that a parent lot was consumed into a lot." })
export class AddLotComponentInput {
  @Field(() => ID, { description: "The lot made." })
  lotId!: string;

  @Field(() => ID, { description: "The lot consumed." })
  parentLotId!: string;

  @Field(() => Float, { nullable: true })
  quantity?: number;

  @Field(() => String, { nullable: true })
  unit?: string;

  @Field(() => DateTimeResolver, { nullable: true, description: "Now when absent." })
  consumedAt?: Date;
}

@InputType("RecordQualityResultInput")
export class RecordQualityResultInput {
  @Field(() => ID)
  lotId!: string;

  @Field(() => String, { description: "What was checked, e.g. seal strength." })
  characteristic!: string;

  @Field(() => Float, { nullable: true })
  value?: number;

  @Field(() => String, { nullable: true })
  unit?: string;

  @Field(() => Boolean)
  passed!: boolean;

  @Field(() => String, { nullable: true })
  note?: string;

  @Field(() => DateTimeResolver, { nullable: true, description: "Now when absent." })
  recordedAt?: Date;
}

@InputType("SetLotHoldInput", { description: "Puts a lot under retention hold (its machine's readings during the lot are never expired) or releases it." })
export class SetLotHoldInput {
  @Field(() => ID)
  id!: string;

  @Field(() => Boolean)
  onHold!: boolean;

  @Field(() => String, { nullable: true, description: "Required to hold." })
  reason?: string;
}
