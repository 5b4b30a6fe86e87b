import { JSONResolver } from "graphql-scalars";
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

@InputType("CallMachineMethodInput")
export class CallMachineMethodInput {
  @Field(() => ID)
  machineId!: string;

  @Field(() => String, { description: "The name of one of the machine's methods." })
  method!: string;

  @Field(() => JSONResolver, { nullable: true, description: 'A JSON object, e.g. {"counter": "parts"}; none when absent. Sparkplug methods take none; OPC UA methods take theirs by the names of their InputArguments.' })
  arguments?: unknown;

  @Field(() => String, { description: "Why: kept with the call in the audit trail." })
  reason!: string;

  @Field(() => Boolean, { defaultValue: false, description: "Check rights and limits only; nothing is sent." })
  dryRun!: boolean;
}
