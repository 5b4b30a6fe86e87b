import { DateTimeResolver } from "graphql-scalars";
import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { orderStatuses, type OrderStatus } from "../../../schema/db/orders.js";
import type { MachineCapacity as Capacity, MachineSuggestion as Suggestion } from "../../capacity/capacity.js";
import type { OrderRow } from "../../orders/order.service.js";
import { upperEnum } from "../enum.js";
import { UserError } from "../user-error.type.js";

export const OrderStatusEnum = upperEnum(orderStatuses);
registerEnumType(OrderStatusEnum, { name: "ProductionOrderStatus" });

@ObjectType("ProductionOrder", { description: "A quantity of a product due at a time on a machine or line; progress from the machine's counters." })
export class ProductionOrder {
  @Field(() => ID)
  id!: string;

  machineId!: number | null;
  lineId!: number | null;

  @Field(() => String)
  number!: string;

  @Field(() => String)
  product!: string;

  @Field(() => Int)
  quantity!: number;

  @Field(() => DateTimeResolver)
  dueAt!: Date;

  @Field(() => Int, { description: "Place in the machine's queue: lower runs first (then the due date)." })
  sequence!: number;

  @Field(() => OrderStatusEnum)
  status!: OrderStatus;

  @Field(() => Float)
  produced!: number;

  @Field(() => Float)
  good!: number;

  @Field(() => Float, { description: "good / quantity, 0..1." })
  progress!: number;

  @Field(() => DateTimeResolver, { nullable: true })
  startedAt?: Date | null;

  @Field(() => DateTimeResolver, { nullable: true })
  completedAt?: Date | null;

  @Field(() => DateTimeResolver, { nullable: true, description: "From the machine's actual rate over the last 8 hours and the shift calendar; null when it cannot be projected." })
  projectedCompletionAt?: Date | null;

  @Field(() => Boolean)
  atRisk!: boolean;

  @Field(() => String, { nullable: true })
  riskReason?: string | null;
}

export const toOrder = (r: OrderRow): ProductionOrder =>
  Object.assign(new ProductionOrder(), { ...r, id: String(r.id), progress: Math.min(1, r.good / r.quantity) });

@ObjectType("ProductionOrderPayload")
export class ProductionOrderPayload {
  @Field(() => ProductionOrder, { nullable: true })
  order?: ProductionOrder;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("ImportProductionOrdersPayload")
export class ImportProductionOrdersPayload {
  @Field(() => [ProductionOrder], { description: "Every order of the file, or none when any row is wrong." })
  orders!: ProductionOrder[];

  @Field(() => [UserError], { description: 'Field paths ["csv", "<line>", "<column>"].' })
  errors!: UserError[];
}

@ObjectType("MachineCapacity", { description: "A machine's capacity over the horizon, in seconds." })
export class MachineCapacity {
  machineId!: number;

  @Field(() => Float, { description: "Shift time without breaks and holidays." })
  availableSeconds!: number;

  @Field(() => Float, { description: "Planned windows (maintenance) inside that time." })
  plannedMaintenanceSeconds!: number;

  @Field(() => Float, { description: "Production time its queued orders take inside the horizon." })
  committedSeconds!: number;

  @Field(() => Float, { description: "available − planned maintenance − committed; negative when overbooked." })
  spareSeconds!: number;
}

export const toCapacity = (c: Capacity): MachineCapacity => Object.assign(new MachineCapacity(), c);

@ObjectType("CapacityReport")
export class CapacityReport {
  @Field(() => DateTimeResolver, { description: "The start: `from`, or now when later (the past has no capacity left)." })
  from!: Date;

  @Field(() => DateTimeResolver)
  to!: Date;

  @Field(() => [MachineCapacity])
  machines!: MachineCapacity[];

  @Field(() => Float)
  availableSeconds!: number;

  @Field(() => Float)
  plannedMaintenanceSeconds!: number;

  @Field(() => Float)
  committedSeconds!: number;

  @Field(() => Float)
  spareSeconds!: number;
}

@ObjectType("MachineSuggestion", { description: "A machine able to take a job, ranked, with why." })
export class MachineSuggestion {
  machineId!: number;

  @Field(() => Int)
  rank!: number;

  @Field(() => Boolean)
  canMeetDue!: boolean;

  @Field(() => DateTimeResolver, { nullable: true })
  start?: Date;

  @Field(() => DateTimeResolver, { nullable: true })
  finish?: Date;

  @Field(() => Float, { nullable: true })
  secondsPerGood?: number;

  @Field(() => String, { nullable: true, description: "actual (measured over the last 8 hours) or ideal." })
  rateBasis?: string;

  @Field(() => Float)
  spareSecondsUntilDue!: number;

  @Field(() => String)
  explanation!: string;
}

export const toSuggestion = (s: Suggestion): MachineSuggestion =>
  Object.assign(new MachineSuggestion(), { ...s, start: s.start === undefined ? undefined : new Date(s.start), finish: s.finish === undefined ? undefined : new Date(s.finish) });

