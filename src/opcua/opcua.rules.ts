import { z } from "zod";
import { deadbandTypes, opcuaIdentityKinds, opcuaSecurityModes, opcuaSecurityPolicies } from "../../schema/db/opcua.js";
import { assetName } from "../assets/asset.rules.js";
import { nodeId } from "./node-id.rules.js";

/**
 * Validation shared by the plant file and the GraphQL mutations for OPC UA endpoints and
 * bindings, so both accept and reject the same things. Pure: no node-opcua here.
 */

const endpointUrl = z
  .string()
  .trim()
  .regex(/^opc\.tcp:\/\/[^\s/:]+(:\d{1,5})?(\/\S*)?$/, { message: "expected an OPC UA URL: opc.tcp://host:4840[/path]" });

const milliseconds = (min: number, max: number) =>
  z.number({ message: "expected milliseconds" }).int({ message: "expected whole milliseconds" }).min(min, { message: `expected at least ${min} ms` }).max(max, { message: `expected at most ${max} ms` });

/** An endpoint's settings. Defaults are the secure ones: SignAndEncrypt with Basic256Sha256. */
export const endpointSpec = z
  .strictObject({
    name: assetName,
    site: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+$/, { message: 'expected "enterprise/site"' })
      .nullish()
      .transform((site) => site ?? null),
    url: endpointUrl,
    securityMode: z.enum(opcuaSecurityModes).default("SignAndEncrypt"),
    securityPolicy: z.enum(opcuaSecurityPolicies).optional(),
    identity: z.enum(opcuaIdentityKinds).default("anonymous"),
    username: z.string().min(1).max(256).nullish(),
    publishingIntervalMs: milliseconds(50, 60_000).default(1_000),
    maxItemsPerSubscription: z.number().int().min(1).max(100_000).default(1_000),
    enabled: z.boolean().default(true),
  })
  .transform(({ securityPolicy, username, ...rest }) => ({
    ...rest,
    // Mode None goes with policy None; any other mode defaults to the current recommended policy.
    securityPolicy: securityPolicy ?? (rest.securityMode === "None" ? ("None" as const) : ("Basic256Sha256" as const)),
    username: username ?? null,
  }))
  .superRefine((e, ctx) => {
    if ((e.securityMode === "None") !== (e.securityPolicy === "None")) {
      ctx.addIssue({ code: "custom", path: ["securityPolicy"], message: "security mode None goes with policy None, Sign and SignAndEncrypt with a real policy" });
    }
    if (e.identity === "username" && e.username === null) ctx.addIssue({ code: "custom", path: ["username"], message: "expected the user name of the username identity" });
    if (e.identity !== "username" && e.username !== null) ctx.addIssue({ code: "custom", path: ["username"], message: "a user name goes only with the username identity" });
  });
export type EndpointSpecInput = z.input<typeof endpointSpec>;
export type EndpointSpec = z.output<typeof endpointSpec>;

/** The secrets each identity needs; they are stored sealed and never shown. */
export const secretsForIdentity = { anonymous: [], username: ["password"], x509: ["certificate", "privateKey"] } as const satisfies Record<(typeof opcuaIdentityKinds)[number], readonly string[]>;

export const endpointSecrets = z.strictObject({
  password: z.string().min(1).max(1_024).optional(),
  certificate: z.string().includes("-----BEGIN CERTIFICATE-----", { message: "expected a PEM certificate" }).max(16_384).optional(),
  privateKey: z.string().includes("PRIVATE KEY-----", { message: "expected a PEM private key (unencrypted)" }).max(16_384).optional(),
});
export type EndpointSecrets = z.output<typeof endpointSecrets>;

/** The names missing for `identity`, given what is (or will be) stored. */
export function missingSecrets(identity: EndpointSpec["identity"], names: readonly string[]): string[] {
  return secretsForIdentity[identity].filter((name) => !names.includes(name));
}

/** Where a data point reads from; exactly one of nodeId and browsePath. */
export const bindingSpec = z
  .object({
    endpoint: assetName,
    nodeId: nodeId.optional(),
    browsePath: z.string().trim().min(2).max(1_024).regex(/^[/.<]/, { message: "expected a RelativePath from the Objects folder, e.g. /2:Machines/2:Press1.2:Temperature" }).optional(),
    samplingIntervalMs: milliseconds(0, 3_600_000).default(1_000),
    queueSize: z.number().int().min(1).max(10_000).default(1),
    deadband: z
      .strictObject({ type: z.enum(deadbandTypes.filter((t) => t !== "none") as ["absolute", "percent"]), value: z.number().min(0) })
      .refine((d) => d.type !== "percent" || d.value <= 100, { message: "a percent deadband lies between 0 and 100", path: ["value"] })
      .optional(),
  })
  .refine((b) => (b.nodeId === undefined) !== (b.browsePath === undefined), { message: "expected either nodeId or browsePath", path: ["nodeId"] });
export type BindingSpec = z.output<typeof bindingSpec>;
