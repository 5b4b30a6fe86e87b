import { ArgsType, Field, Int } from "type-graphql";
import type { QuarantineReason } from "../../telemetry/sample.js";
import { QuarantineReasonEnum } from "./quarantine.type.js";

@ArgsType()
export class QuarantineArgs {
  @Field(() => Int, { defaultValue: 50, description: "Page size, at most 500." })
  first!: number;

  @Field(() => String, { nullable: true })
  after?: string;

  @Field(() => QuarantineReasonEnum, { nullable: true })
  reason?: QuarantineReason;

  @Field(() => String, { nullable: true, description: "Exact topic." })
  topic?: string;
}
