import { ArgsType, Field, Int } from "type-graphql";
import { DateTimeResolver, DurationResolver } from "graphql-scalars";

@ArgsType()
export class SeriesArgs {
  @Field(() => DateTimeResolver, { description: "Start of the range (inclusive)." })
  from!: Date;

  @Field(() => DateTimeResolver, { description: "End of the range (exclusive)." })
  to!: Date;

  @Field(() => DurationResolver, {
    nullable: true,
    description: "ISO 8601 bucket size (PT1M, PT1H, P1D): min/max/avg/count per bucket. Absent: raw readings.",
  })
  bucket?: string;

  @Field(() => Int, { defaultValue: 1000, description: "Most raw readings to return (at most 10000); ignored with a bucket." })
  limit!: number;
}
