import { ArgsType, Field, InputType, Int } from "type-graphql";

@InputType("MachineFilter")
export class MachineFilter {
  @Field(() => String, { nullable: true, description: "Path prefix: \"acme/berlin\" or \"acme/berlin/packaging/line-1\"." })
  path?: string;

  @Field(() => String, { nullable: true, description: "Case-insensitive part of the name or display name." })
  search?: string;
}

@ArgsType()
export class MachinesArgs {
  @Field(() => Int, { defaultValue: 50, description: "Page size, at most 500." })
  first!: number;

  @Field(() => String, { nullable: true })
  after?: string;

  @Field(() => MachineFilter, { nullable: true })
  filter?: MachineFilter;
}
