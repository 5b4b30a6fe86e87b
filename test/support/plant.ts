import { stringify } from "yaml";

/** Where `oneMachinePlant` puts its machine. */
export const oneMachinePath = (enterprise: string, machine: string) => `${enterprise}/site-1/area-1/line-1/${machine}`;

/** A plant file with a single machine (site-1/area-1/line-1) and the given data points. */
export function oneMachinePlant(enterprise: string, machine: string, dataPoints: Record<string, unknown>[]): string {
  return stringify({
    enterprise,
    sites: [{ name: "site-1", areas: [{ name: "area-1", lines: [{ name: "line-1", machines: [{ name: machine, dataPoints }] }] }] }],
  });
}

/** Where `sealerPerSitePlant` puts a site's machine. */
export const sealerPath = (enterprise: string, site: string) => `${enterprise}/${site}/packaging/line-1/sealer-1`;

/** A plant file with one machine (packaging/line-1/sealer-1, data point "temperature") in each site. */
export function sealerPerSitePlant(enterprise: string, sites: readonly string[]): string {
  return stringify({
    enterprise,
    sites: sites.map((name) => ({
      name,
      areas: [{ name: "packaging", lines: [{ name: "line-1", machines: [{ name: "sealer-1", dataPoints: [{ name: "temperature" }] }] }] }],
    })),
  });
}
