const FIXED_DURATION = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Seconds in an ISO 8601 duration of fixed length (weeks, days, hours, minutes, seconds).
 * Years and months vary in length, so they are refused rather than guessed.
 */
export function durationSeconds(text: string): number | undefined {
  const match = FIXED_DURATION.exec(text);
  if (!match || text === "P" || text.endsWith("T")) return undefined;
  const [weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number];
  const total = weeks * 604_800 + days * 86_400 + hours * 3_600 + minutes * 60 + seconds;
  return total > 0 ? total : undefined;
}
