CREATE TABLE "audit_chain_head" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"chain_id" uuid DEFAULT gen_random_uuid() NOT NULL,
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
-- New entries carry their content hash; their place in the chain is left to the chainer.
CREATE OR REPLACE FUNCTION "audit_entry_check_new"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.content_hash IS NULL OR NEW.content_hash !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'audit_entry.content_hash must be the hex SHA-256 of the entry''s canonical content';
  END IF;
  IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL THEN
    RAISE EXCEPTION 'audit_entry: seq, prev_hash and hash are set by the chainer, not by the writer';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_entry_check_new" BEFORE INSERT ON "audit_entry" FOR EACH ROW EXECUTE FUNCTION "audit_entry_check_new"();--> statement-breakpoint
-- The one change an entry may see: the chainer linking it, once, content untouched.
CREATE OR REPLACE FUNCTION "audit_entry_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.content_hash IS NOT NULL
     AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
     AND (NEW.id, NEW.at, NEW.actor, NEW.action, NEW.entity_type, NEW.entity_id, NEW.old_value, NEW.new_value, NEW.reason, NEW.request_id, NEW.content_hash)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.at, OLD.actor, OLD.action, OLD.entity_type, OLD.entity_id, OLD.old_value, OLD.new_value, OLD.reason, OLD.request_id, OLD.content_hash) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_entry_append_only" BEFORE UPDATE OR DELETE ON "audit_entry" FOR EACH ROW EXECUTE FUNCTION "audit_entry_append_only"();--> statement-breakpoint
CREATE OR REPLACE FUNCTION "refuse_change_of_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;--> statement-breakpoint
CREATE TRIGGER "audit_entry_no_truncate" BEFORE TRUNCATE ON "audit_entry" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "electronic_signature_append_only" BEFORE UPDATE OR DELETE ON "electronic_signature" FOR EACH ROW EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
CREATE TRIGGER "electronic_signature_no_truncate" BEFORE TRUNCATE ON "electronic_signature" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_change_of_append_only"();--> statement-breakpoint
-- The owner (the hub's own role) loses UPDATE, DELETE and TRUNCATE too, keeping UPDATE of the
-- chain columns only. A superuser ignores privileges (the triggers still refuse); where REVOKE is
-- not possible the triggers stand alone.
DO $$
BEGIN
  EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON "audit_entry", "electronic_signature" FROM PUBLIC, %I', current_user);
  EXECUTE format('GRANT UPDATE ("seq", "prev_hash", "hash") ON "audit_entry" TO %I', current_user);
EXCEPTION WHEN others THEN
  RAISE NOTICE 'audit tables keep their privileges: %', SQLERRM;
END $$;
