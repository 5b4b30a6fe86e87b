import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { hubKeyFor } from "../../audit/hub-key.js";
import { seesSite } from "../../auth/identity.js";
import { can } from "../../auth/permissions.js";
import { reauthenticate } from "../../signatures/reauthenticate.js";
import { readPermissionOf, type SignableRecordType } from "../../signatures/signable-records.js";
import { checkedSignaturesOf, readSignable, signRecord } from "../../signatures/signature.service.js";
import type { GraphqlContext } from "../context.js";
import { parseDatabaseId } from "../relay/node.type.js";
import { userError } from "../user-error.type.js";
import { SignRecordInput } from "./signature.input.js";
import { ElectronicSignature, SignableRecordTypeEnum, SignRecordPayload, toElectronicSignature } from "./signature.type.js";

const NOT_FOUND = "no record of this type has this id";

@Resolver(() => ElectronicSignature)
export class SignatureResolver {
  @Authorized("record.sign")
  @Mutation(() => SignRecordPayload, { description: "Signs a record electronically: re-authenticate, state the meaning; the signature is bound to the record's hash." })
  async signRecord(@Arg("input", () => SignRecordInput) input: SignRecordInput, @Ctx() ctx: GraphqlContext): Promise<SignRecordPayload> {
    const recordId = await visibleRecordId(ctx, input.recordType, input.recordId);
    if (recordId === undefined) return { errors: [userError(["input", "recordId"], NOT_FOUND)] };
    const refused = await reauthenticate({ authenticator: ctx.authenticator, db: ctx.database.db }, ctx.identity, input.credential, {
      requestId: ctx.requestId,
      maxAgeSeconds: ctx.config.audit.signatureMaxAuthAgeSeconds,
    });
    if (refused) return { errors: [userError(["input", "credential"], refused)] };
    const key = await hubKeyFor(ctx.config);
    const outcome = await signRecord(ctx.database.db, key, {
      recordType: input.recordType,
      recordId,
      meaning: input.meaning,
      reason: input.reason?.trim() || null,
      expectedHash: input.recordHash,
      signer: { id: ctx.identity.id, name: ctx.identity.name },
      requestId: ctx.requestId,
    });
    if ("problem" in outcome) return { errors: [userError(["input", outcome.problem === "changed" ? "recordHash" : "recordId"], outcome.message)] };
    return { signature: toElectronicSignature(outcome.signature, { valid: true }), errors: [] };
  }

  @Authorized("signature.read")
  @Query(() => [ElectronicSignature], { description: "The signatures of a record, oldest first, each checked against the record as it is now." })
  async signatures(
    @Arg("recordType", () => SignableRecordTypeEnum) recordType: SignableRecordType,
    @Arg("recordId", () => ID) id: string,
    @Ctx() ctx: GraphqlContext,
  ): Promise<ElectronicSignature[]> {
    const recordId = await visibleRecordId(ctx, recordType, id);
    if (recordId === undefined) return [];
    const { publicKeyPem } = await hubKeyFor(ctx.config);
    return (await checkedSignaturesOf(ctx.database.db, publicKeyPem, recordType, recordId)).map(({ row, check }) => toElectronicSignature(row, check));
  }
}

/** The record's id when it exists and the caller may see it; records of other sites read as unknown. */
async function visibleRecordId(ctx: GraphqlContext, type: SignableRecordType, id: string): Promise<number | undefined> {
  const recordId = parseDatabaseId(id);
  if (recordId === undefined) return undefined;
  const readPermission = readPermissionOf(type);
  if (readPermission && !can(ctx.identity, readPermission)) return undefined;
  const record = await readSignable(ctx.database.db, type, recordId);
  if (!record || (record.site !== null && !seesSite(ctx.identity.scope, record.site))) return undefined;
  return recordId;
}
