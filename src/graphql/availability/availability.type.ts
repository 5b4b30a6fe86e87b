import { DateTimeResolver, JSONObjectResolver } from "graphql-scalars";
import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import type { MachineState } from "../../../schema/db/availability.js";
import type { Kpis } from "../../availability/kpi.js";
import type { StateInterval } from "../../availability/state.store.js";
import { MachineStateEnum } from "../asset/asset.type.js";
import { UserError } from "../user-error.type.js";

@ObjectType("DowntimeReason", { description: "Unit down time (down, maintenance, offline) by state and reason: the Pareto of losses." })
export class DowntimeReason {
  @Field(() => MachineStateEnum)
  state!: MachineState;

  @Field(() => String, { description: "Reason code; empty when none was given." })
  reason!: string;

  @Field(() => Float)
  seconds!: number;

  @Field(() => Float, { description: "Share of the unit down time, 0..1." })
  share!: number;
}

@ObjectType("Kpis", { description: "ISO 22400-2 times (seconds), quantities and KPIs over an interval; a KPI whose denominator is 0 is null. Formulas in the README." })
export class KpisType {
  @Field(() => DateTimeResolver)
  from!: Date;

  @Field(() => DateTimeResolver, { description: "The end, cut at now: the future is not known yet." })
  to!: Date;

  @Field(() => Float, { description: "POT: time minus planned stops outside shifts and on holidays." })
  plannedOperationTime!: number;

  @Field(() => Float, { description: "PDOT: breaks and planned windows." })
  plannedDownTime!: number;

  @Field(() => Float, { description: "PBT = POT − PDOT." })
  plannedBusyTime!: number;

  @Field(() => Float, { description: "APT: running." })
  actualProductionTime!: number;

  @Field(() => Float, { description: "AUST: setup." })
  actualSetupTime!: number;

  @Field(() => Float, { description: "ADET: idle while planned." })
  actualDelayTime!: number;

  @Field(() => Float, { description: "ADOT: down, maintenance and offline while planned." })
  actualDownTime!: number;

  @Field(() => Float, { description: "AUPT = APT + ADET." })
  actualUnitProcessingTime!: number;

  @Field(() => Float, { description: "AUBT = AUST + AUPT." })
  actualUnitBusyTime!: number;

  @Field(() => Float, { description: "PQ." })
  producedQuantity!: number;

  @Field(() => Float, { description: "GQ." })
  goodQuantity!: number;

  @Field(() => Float, { description: "SQ." })
  scrapQuantity!: number;

  @Field(() => Float, { nullable: true, description: "APT / PBT." })
  availability!: number | null;

  @Field(() => Float, { nullable: true, description: "Performance: Σ PRI × PQ / APT." })
  effectiveness!: number | null;

  @Field(() => Float, { nullable: true, description: "GQ / PQ." })
  qualityRatio!: number | null;

  @Field(() => Float, { nullable: true, description: "Availability × effectiveness × quality ratio." })
  oee!: number | null;

  @Field(() => Float, { nullable: true, description: "Utilization efficiency: APT / AUBT." })
  utilizationEfficiency!: number | null;

  @Field(() => Float, { nullable: true, description: "Allocation efficiency: AUBT / PBT." })
  allocationEfficiency!: number | null;

  @Field(() => [DowntimeReason], { description: "The top ten down time reasons, longest first." })
  downtimeReasons!: DowntimeReason[];
}

export const toKpis = (k: Kpis, from: number, to: number): KpisType => Object.assign(new KpisType(), k, { from: new Date(from), to: new Date(to) });

@ObjectType("ShiftKpis")
export class ShiftKpis {
  @Field(() => String)
  shift!: string;

  @Field(() => String, { description: "The local date the shift starts on." })
  date!: string;

  @Field(() => DateTimeResolver)
  from!: Date;

  @Field(() => DateTimeResolver)
  to!: Date;

  @Field(() => KpisType)
  kpis!: KpisType;
}

@ObjectType("CycleTimeStats", { description: "Actual cycle times of a machine for a product: one sample per hour with at least 30 minutes running." })
export class CycleTimeStats {
  @Field(() => String, { description: "Empty for parts counted without an order." })
  product!: string;

  @Field(() => Int)
  samples!: number;

  @Field(() => Float)
  medianSeconds!: number;

  @Field(() => Float)
  p90Seconds!: number;

  @Field(() => Float, { nullable: true, description: "The planned ideal cycle time (ISO 22400 PRI)." })
  idealSeconds?: number;

  @Field(() => Boolean, { description: "The median is more than 5 % above the ideal over at least 3 hours." })
  slower!: boolean;
}

@ObjectType("MachineStateInterval", { description: "A stretch of time in one state; a machine's intervals tile time." })
export class MachineStateInterval {
  @Field(() => ID)
  id!: string;

  machineId!: number;

  @Field(() => MachineStateEnum)
  state!: MachineState;

  @Field(() => String)
  reason!: string;

  @Field(() => String, { description: "What decided it: a data point's name, task, calendar, connectivity, restart." })
  source!: string;

  @Field(() => DateTimeResolver)
  startedAt!: Date;

  @Field(() => DateTimeResolver, { nullable: true, description: "Null while it lasts." })
  endedAt?: Date | null;
}

export const toInterval = (i: StateInterval): MachineStateInterval =>
  Object.assign(new MachineStateInterval(), { id: String(i.id), machineId: i.machineId, state: i.state, reason: i.reason, source: i.source, startedAt: new Date(i.startedAt), endedAt: i.endedAt === undefined ? null : new Date(i.endedAt) });

@ObjectType("MachineStateIntervalPayload")
export class MachineStateIntervalPayload {
  @Field(() => MachineStateInterval, { nullable: true })
  interval?: MachineStateInterval;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("ShiftCalendarPayload")
export class ShiftCalendarPayload {
  @Field(() => JSONObjectResolver, { nullable: true, description: "The calendar as stored, defaults filled in." })
  calendar?: Record<string, unknown>;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("MachineStateConfigPayload")
export class MachineStateConfigPayload {
  @Field(() => JSONObjectResolver, { nullable: true })
  config?: Record<string, unknown>;

  @Field(() => [UserError])
  errors!: UserError[];
}

@ObjectType("QualityResultPayload")
export class QualityResultPayload {
  @Field(() => Int, { nullable: true, description: "The parts recorded as scrap." })
  scrap?: number;

  @Field(() => DateTimeResolver, { nullable: true })
  at?: Date;

  @Field(() => [UserError])
  errors!: UserError[];
}
