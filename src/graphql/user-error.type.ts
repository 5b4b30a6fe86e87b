import { Field, ObjectType } from "type-graphql";
import type { z } from "zod";

/** An expected failure, returned as data: which input field and what is wrong with it. */
@ObjectType("UserError")
export class UserError {
  @Field(() => [String], { description: "Path of the input field at fault, e.g. [\"input\", \"name\"]." })
  field!: string[];

  @Field(() => String)
  message!: string;
}

export function userError(field: string[], message: string): UserError {
  return Object.assign(new UserError(), { field, message });
}

export function userErrorsFromZod(error: z.ZodError, root = "input"): UserError[] {
  return error.issues.map((issue) => userError([root, ...issue.path.map(String)], issue.message));
}
