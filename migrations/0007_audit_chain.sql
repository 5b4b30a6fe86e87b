CREATE TABLE "audit_chain_head" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"chain_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_chain_head_single" CHECK ("audit_chain_head"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "audit_chain_link" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"entry_id" bigint NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_chain_link_entry" UNIQUE("entry_id")
);
--> statement-breakpoint
CREATE TABLE "audit_unlinked" (
	"entry_id" bigint PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE "electronic_signature" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"record_type" text NOT NULL,
	"record_id" text NOT NULL,
	"record_hash" text NOT NULL,
	"meaning" text NOT NULL,
	"signer_id" text NOT NULL,
	"signer_name" text NOT NULL,
	"signed_at" timestamp (3) with time zone NOT NULL,
	"reason" text,
	"hub_signature" text NOT NULL,
	"key_id" text NOT NULL,
	CONSTRAINT "electronic_signature_meaning" CHECK ("electronic_signature"."meaning" in ('reviewed', 'approved', 'released'))
);
--> statement-breakpoint
ALTER TABLE "audit_entry" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "audit_chain_link" ADD CONSTRAINT "audit_chain_link_entry_id_audit_entry_id_fk" FOREIGN KEY ("entry_id") REFERENCES "public"."audit_entry"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "electronic_signature_record" ON "electronic_signature" USING btree ("record_type","record_id","id");--> statement-breakpoint
-- hand-written
INSERT INTO "audit_chain_head" ("id", "seq", "hash") VALUES (1, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;--> statement-breakpoint
-- New entries carry their content hash; their place in the chain is the chainer's link.
CREATE OR REPLACE FUNCTION "audit_entry_check_new"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.content_hash IS NULL OR NEW.content_hash !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'audit_entry.content_hash must be the hex SHA-256 of the entry''s canonical content';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_entry_check_new" BEFORE INSERT ON "audit_entry" FOR EACH ROW EXECUTE FUNCTION "audit_entry_check_new"();--> statement-breakpoint
-- Every new entry goes on the chainer's work list, once per statement.
CREATE OR REPLACE FUNCTION "audit_entry_enlist"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "audit_unlinked" ("entry_id") SELECT "id" FROM "appended";
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_entry_enlist" AFTER INSERT ON "audit_entry" REFERENCING NEW TABLE AS "appended" FOR EACH STATEMENT EXECUTE FUNCTION "audit_entry_enlist"();--> statement-breakpoint
CREATE OR REPLACE FUNCTION "refuse_change_of_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_entry_append_only" BEFORE UPDATE OR DELETE ON "audit_entry" FOR EACH ROW EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "audit_entry_no_truncate" BEFORE TRUNCATE ON "audit_entry" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "audit_chain_link_append_only" BEFORE UPDATE OR DELETE ON "audit_chain_link" FOR EACH ROW EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "audit_chain_link_no_truncate" BEFORE TRUNCATE ON "audit_chain_link" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "electronic_signature_append_only" BEFORE UPDATE OR DELETE ON "electronic_signature" FOR EACH ROW EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "electronic_signature_no_truncate" BEFORE TRUNCATE ON "electronic_signature" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
-- The owner (the hub's own role) loses UPDATE, DELETE and TRUNCATE too. A superuser ignores
-- privileges (the triggers still refuse); where REVOKE is not possible the triggers stand alone.
DO $$
BEGIN
  EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON "audit_entry", "audit_chain_link", "electronic_signature" FROM PUBLIC, %I', current_user);
EXCEPTION WHEN others THEN
  RAISE NOTICE 'audit tables keep their privileges: %', SQLERRM;
END $$;
