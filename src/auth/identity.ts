import type { AccessRole } from "../../schema/db/security.js";

export type { AccessRole };
export { accessRoles } from "../../schema/db/security.js";

/** The sites an identity may see: every site, or these "enterprise/site" paths. */
export type SiteScope = { readonly all: true } | { readonly all: false; readonly sites: readonly string[] };

/** Who is calling: a person (OIDC token), an API key, or the hub itself (CLI, startup). */
export interface Identity {
  readonly kind: "user" | "api_key" | "system";
  /** Stable and unique: "user:<sub>", "key:<id>", "system". Recorded as the actor. */
  readonly id: string;
  readonly name: string;
  readonly role: AccessRole;
  readonly scope: SiteScope;
}

export const allSites: SiteScope = Object.freeze({ all: true });

export const systemIdentity: Identity = Object.freeze({ kind: "system", id: "system", name: "plantgraph", role: "admin", scope: allSites });

/** "enterprise/site" of any asset path ("enterprise/site/area/line/machine"), or of a topic. */
export function sitePathOf(path: string): string {
  return path.split("/").slice(0, 2).join("/");
}

export function seesSite(scope: SiteScope, sitePath: string): boolean {
  return scope.all || scope.sites.includes(sitePath);
}

export function seesEnterprise(scope: SiteScope, enterprise: string): boolean {
  return scope.all || scope.sites.some((site) => site.startsWith(`${enterprise}/`));
}

/** The site paths to filter SQL by; undefined means no filter. */
export function scopedSites(scope: SiteScope): readonly string[] | undefined {
  return scope.all ? undefined : scope.sites;
}
