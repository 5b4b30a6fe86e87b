CREATE TABLE "audit_chain_head" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_chain_head_single" CHECK ("audit_chain_head"."id" = 1)
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
ALTER TABLE "audit_entry" ADD COLUMN "seq" bigint;--> statement-breakpoint
ALTER TABLE "audit_entry" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "audit_entry" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "audit_entry" ADD COLUMN "hash" text;--> statement-breakpoint
CREATE INDEX "electronic_signature_record" ON "electronic_signature" USING btree ("record_type","record_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_entry_seq" ON "audit_entry" USING btree ("seq");--> statement-breakpoint
-- hand-written
INSERT INTO "audit_chain_head" ("id", "seq", "hash") VALUES (1, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;--> statement-breakpoint
-- Links each new audit entry to the chain. The head row's lock is held until the transaction
-- ends, so chain order is commit order and seq has no gaps; one round trip per append.
CREATE OR REPLACE FUNCTION "audit_entry_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_seq bigint;
  head_hash text;
BEGIN
  IF NEW.content_hash IS NULL OR NEW.content_hash !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'audit_entry.content_hash must be the hex SHA-256 of the entry''s canonical content';
  END IF;
  SELECT "seq", "hash" INTO head_seq, head_hash FROM "audit_chain_head" WHERE "id" = 1 FOR UPDATE;
  NEW.seq := head_seq + 1;
  NEW.prev_hash := head_hash;
  NEW.hash := encode(sha256(decode(head_hash, 'hex') || decode(NEW.content_hash, 'hex')), 'hex');
  UPDATE "audit_chain_head" SET "seq" = NEW.seq, "hash" = NEW.hash WHERE "id" = 1;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_entry_chain" BEFORE INSERT ON "audit_entry" FOR EACH ROW EXECUTE FUNCTION "audit_entry_chain"();--> statement-breakpoint
CREATE OR REPLACE FUNCTION "refuse_change_of_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_entry_append_only" BEFORE UPDATE OR DELETE ON "audit_entry" FOR EACH ROW EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "audit_entry_no_truncate" BEFORE TRUNCATE ON "audit_entry" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "electronic_signature_append_only" BEFORE UPDATE OR DELETE ON "electronic_signature" FOR EACH ROW EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "electronic_signature_no_truncate" BEFORE TRUNCATE ON "electronic_signature" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
-- The owner (the hub's own role) loses UPDATE, DELETE and TRUNCATE too. A superuser ignores
-- privileges (the triggers still refuse); where REVOKE is not possible the triggers stand alone.
DO $$
BEGIN
  EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON "audit_entry", "electronic_signature" FROM PUBLIC, %I', current_user);
EXCEPTION WHEN others THEN
  RAISE NOTICE 'audit tables keep their privileges: %', SQLERRM;
END $$;
