import { Field, Float, ID, InputType } from "type-graphql";

@InputType("WriteSetpointInput")
export class WriteSetpointInput {
  @Field(() => ID)
  machineId!: string;

  @Field(() => String, { description: "The name of one of the machine's writable data points." })
  point!: string;

  @Field(() => Float, { description: "Booleans as 1 and 0." })
  value!: number;

  @Field(() => String, { description: "Why: kept with the write in the audit trail." })
  reason!: string;

  @Field(() => Boolean, { defaultValue: false, description: "Check rights and limits only; nothing is sent." })
  dryRun!: boolean;
}
