import type { MachineState } from "../../schema/db/availability.js";
import { outsideOperationReasons } from "../calendar/calendar.schema.js";

/** Seconds spent in a state for a reason, summed over machines and time. */
export interface StateSeconds {
  state: MachineState;
  reason: string;
  seconds: number;
}

export interface CountTotals {
  produced: number;
  good: number;
  scrap: number;
  /** Σ ideal cycle time × produced (ISO 22400 PRI × PQ, per product). */
  idealSeconds: number;
}

export interface DowntimeReason {
  state: MachineState;
  reason: string;
  seconds: number;
  /** Share of the unit down time (0..1). */
  share: number;
}

/** ISO 22400-2 times (seconds), quantities and KPIs; a KPI whose denominator is 0 is null. */
export interface Kpis {
  plannedOperationTime: number;
  plannedDownTime: number;
  plannedBusyTime: number;
  actualProductionTime: number;
  actualSetupTime: number;
  actualDelayTime: number;
  actualDownTime: number;
  actualUnitProcessingTime: number;
  actualUnitBusyTime: number;
  producedQuantity: number;
  goodQuantity: number;
  scrapQuantity: number;
  availability: number | null;
  effectiveness: number | null;
  qualityRatio: number | null;
  oee: number | null;
  utilizationEfficiency: number | null;
  allocationEfficiency: number | null;
  downtimeReasons: DowntimeReason[];
}

const downStates: readonly MachineState[] = ["down", "maintenance", "offline"];
const outsideOperation: readonly string[] = outsideOperationReasons;

const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null);

/**
 * The formulas, ISO 22400-2 terms, over time that the state intervals tile:
 * POT = all time − planned stops outside shifts and on holidays; PDOT = the other planned stops
 * (breaks, planned windows); PBT = POT − PDOT; APT = running; AUST = setup; ADET = idle;
 * ADOT = down + maintenance (a task in progress) + offline. AUPT = APT + ADET; AUBT = AUST + AUPT.
 * Availability = APT / PBT; Effectiveness = Σ PRI × PQ / APT; Quality ratio = GQ / PQ;
 * OEE = A × E × Q; Utilization efficiency = APT / AUBT; Allocation efficiency = AUBT / PBT.
 */
export function computeKpis(states: readonly StateSeconds[], counts: CountTotals, topReasons = 10): Kpis {
  const sum = (keep: (s: StateSeconds) => boolean) => states.filter(keep).reduce((total, s) => total + s.seconds, 0);
  const total = sum(() => true);
  const outside = sum((s) => s.state === "planned_stop" && outsideOperation.includes(s.reason));
  const plannedDown = sum((s) => s.state === "planned_stop" && !outsideOperation.includes(s.reason));
  const apt = sum((s) => s.state === "running");
  const aust = sum((s) => s.state === "setup");
  const adet = sum((s) => s.state === "idle");
  const adot = sum((s) => downStates.includes(s.state));
  const pot = total - outside;
  const pbt = pot - plannedDown;
  const aupt = apt + adet;
  const aubt = aust + aupt;

  const availability = ratio(apt, pbt);
  const effectiveness = ratio(counts.idealSeconds, apt);
  const qualityRatio = ratio(counts.good, counts.produced);
  const oee = availability === null || effectiveness === null || qualityRatio === null ? null : availability * effectiveness * qualityRatio;

  const reasons = new Map<string, DowntimeReason>();
  for (const s of states) {
    if (!downStates.includes(s.state) || s.seconds <= 0) continue;
    const key = `${s.state}\u0000${s.reason}`;
    const entry = reasons.get(key) ?? { state: s.state, reason: s.reason, seconds: 0, share: 0 };
    entry.seconds += s.seconds;
    reasons.set(key, entry);
  }
  const downtimeReasons = [...reasons.values()]
    .map((r) => ({ ...r, share: adot > 0 ? r.seconds / adot : 0 }))
    .sort((a, b) => b.seconds - a.seconds || a.state.localeCompare(b.state) || a.reason.localeCompare(b.reason))
    .slice(0, topReasons);

  return {
    plannedOperationTime: pot,
    plannedDownTime: plannedDown,
    plannedBusyTime: pbt,
    actualProductionTime: apt,
    actualSetupTime: aust,
    actualDelayTime: adet,
    actualDownTime: adot,
    actualUnitProcessingTime: aupt,
    actualUnitBusyTime: aubt,
    producedQuantity: counts.produced,
    goodQuantity: counts.good,
    scrapQuantity: counts.scrap,
    availability,
    effectiveness,
    qualityRatio,
    oee,
    utilizationEfficiency: ratio(apt, aubt),
    allocationEfficiency: ratio(aubt, pbt),
    downtimeReasons,
  };
}
