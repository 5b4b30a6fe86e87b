import { defineConfig } from "drizzle-kit";

// drizzle-kit only reads the table definitions to generate SQL; it never connects here.
export default defineConfig({
  dialect: "postgresql",
  schema: "./schema/db/index.ts",
  out: "./migrations",
});
