import { Field, ID, InputType } from "type-graphql";
import type { SignatureMeaning } from "../../../schema/db/audit.js";
import type { SignableRecordType } from "../../signatures/signable-records.js";
import { SignableRecordTypeEnum, SignatureMeaningEnum } from "./signature.type.js";

@InputType("SignRecordInput")
export class SignRecordInput {
  @Field(() => SignableRecordTypeEnum)
  recordType!: SignableRecordType;

  @Field(() => ID)
  recordId!: string;

  @Field(() => SignatureMeaningEnum)
  meaning!: SignatureMeaning;

  @Field(() => String, { description: "Your credential again: your API key, or an OIDC token issued within SIGNATURE_MAX_AUTH_AGE_SECONDS." })
  credential!: string;

  @Field(() => String, { nullable: true })
  reason?: string | null;

  @Field(() => String, { nullable: true, description: "The record hash you reviewed; refused when the record has changed since." })
  recordHash?: string | null;
}
