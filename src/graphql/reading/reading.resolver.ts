import { Args, ArgsType, Authorized, Field, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import type { ReadingEvent } from "../../pubsub/pubsub.js";
import type { GraphqlContext } from "../context.js";
import { machineVisible } from "../scope.js";
import { badInput, globalId, parseGlobalId } from "../relay/node.type.js";
import { ReadingAdded } from "./reading.type.js";

@ArgsType()
export class ReadingAddedArgs {
  @Field(() => ID)
  machineId!: string;

  @Field(() => String, { nullable: true, description: "Only this metric; all of the machine's when absent." })
  metric?: string;
}

/** Readings arrive per committed batch and machine; subscribers see them one by one. */
async function* readingsOf(batches: AsyncIterable<ReadingEvent[]>, metric: string | undefined): AsyncGenerator<ReadingEvent> {
  for await (const batch of batches) {
    for (const reading of batch) if (metric === undefined || reading.metric === metric) yield reading;
  }
}

@Resolver()
export class ReadingResolver {
  @Authorized("telemetry.read")
  @Subscription(() => ReadingAdded, {
    description: "Every reading of a machine (or one of its metrics) as it is stored.",
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, ReadingAddedArgs, GraphqlContext>) => {
      const parsed = parseGlobalId(args.machineId, "Machine");
      const machine = parsed && (await context.loaders.machine.load(parsed.id));
      // Outside the subscriber's sites reads exactly like an unknown id.
      if (!machineVisible(context, machine)) throw badInput("`machineId` is not a machine you can see", "machineId");
      return readingsOf(context.pubsub.subscribe("READING_ADDED", machine.id), args.metric);
    },
  })
  readingAdded(@Root() reading: ReadingEvent, @Args(() => ReadingAddedArgs) _args: ReadingAddedArgs): ReadingAdded {
    return Object.assign(new ReadingAdded(), {
      machineId: globalId("Machine", reading.machineId),
      dataPointId: globalId("DataPoint", reading.dataPointId),
      metric: reading.metric,
      value: reading.value,
      ts: new Date(reading.ts),
      quality: reading.quality,
    });
  }
}
