import { DateTimeResolver } from "graphql-scalars";
import { ArgsType, Field, ID, Int } from "type-graphql";

@ArgsType()
export class KpisArgs {
  @Field(() => ID, { description: "A site, area, line or machine." })
  assetId!: string;

  @Field(() => DateTimeResolver)
  from!: Date;

  @Field(() => DateTimeResolver)
  to!: Date;
}

@ArgsType()
export class ShiftKpisArgs {
  @Field(() => ID, { description: "A site, area, line or machine: the calendar of its line, else of its site." })
  assetId!: string;

  @Field(() => String, { description: 'The local date the shifts start on, "YYYY-MM-DD".' })
  date!: string;
}

@ArgsType()
export class IntervalRangeArgs {
  @Field(() => DateTimeResolver)
  from!: Date;

  @Field(() => DateTimeResolver)
  to!: Date;

  @Field(() => Int, { nullable: true, description: "At most this many (default 500, at most 5,000)." })
  first?: number;
}
