import { DateTimeResolver } from "graphql-scalars";
import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { signatureMeanings, type SignatureMeaning } from "../../../schema/db/audit.js";
import { signableRecordTypes, type SignableRecordType } from "../../signatures/signable-records.js";
import type { SignatureCheck, SignatureRow } from "../../signatures/signature.service.js";
import { upperEnum } from "../enum.js";
import { UserError } from "../user-error.type.js";

export const SignatureMeaningEnum = upperEnum(signatureMeanings);
registerEnumType(SignatureMeaningEnum, { name: "SignatureMeaning", description: "What the signer states by signing (21 CFR 11.50)." });

export const SignableRecordTypeEnum = upperEnum(signableRecordTypes);
registerEnumType(SignableRecordTypeEnum, { name: "SignableRecordType" });

@ObjectType("ElectronicSignature", { description: "A signature bound to the hash of the record as it was signed." })
export class ElectronicSignature {
  @Field(() => ID)
  id!: string;

  @Field(() => SignableRecordTypeEnum)
  recordType!: SignableRecordType;

  @Field(() => ID)
  recordId!: string;

  @Field(() => String, { description: "SHA-256 of the record's canonical content when it was signed." })
  recordHash!: string;

  @Field(() => SignatureMeaningEnum)
  meaning!: SignatureMeaning;

  @Field(() => String)
  signerId!: string;

  @Field(() => String, { description: "The signer's printed name." })
  signerName!: string;

  @Field(() => DateTimeResolver)
  signedAt!: Date;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => Boolean, { description: "False once the record changed or the signature record was altered." })
  valid!: boolean;

  @Field(() => String, { nullable: true, description: "Why the signature is no longer valid." })
  problem!: string | null;
}

export const toElectronicSignature = (row: SignatureRow, check: SignatureCheck): ElectronicSignature =>
  Object.assign(new ElectronicSignature(), {
    ...row,
    id: String(row.id),
    recordType: row.recordType as SignableRecordType,
    valid: check.valid,
    problem: check.problem ?? null,
  });

@ObjectType("SignRecordPayload")
export class SignRecordPayload {
  @Field(() => ElectronicSignature, { nullable: true })
  signature?: ElectronicSignature;

  @Field(() => [UserError])
  errors!: UserError[];
}
