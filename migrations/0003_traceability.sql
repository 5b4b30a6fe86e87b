CREATE TABLE "lot_component" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"lot_id" bigint NOT NULL,
	"parent_lot_id" bigint NOT NULL,
	"quantity" double precision,
	"unit" text,
	"consumed_at" timestamp (3) with time zone NOT NULL,
	"recorded_by" text NOT NULL,
	CONSTRAINT "lot_component_once" UNIQUE("lot_id","parent_lot_id"),
	CONSTRAINT "lot_component_not_itself" CHECK ("lot_component"."lot_id" <> "lot_component"."parent_lot_id")
);
--> statement-breakpoint
CREATE TABLE "lot" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"machine_id" integer,
	"machine_path" text NOT NULL,
	"product" text,
	"status" text DEFAULT 'running' NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"started_by" text NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"ended_by" text,
	"quantity" double precision,
	"unit" text,
	"on_hold" boolean DEFAULT false NOT NULL,
	"hold_reason" text,
	"hold_changed_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lot_code_unique" UNIQUE("code"),
	CONSTRAINT "lot_status" CHECK ("lot"."status" in ('running', 'ended')),
	CONSTRAINT "lot_window" CHECK ("lot"."ended_at" is null or "lot"."ended_at" >= "lot"."started_at")
);
--> statement-breakpoint
CREATE TABLE "quality_result" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"lot_id" bigint NOT NULL,
	"characteristic" text NOT NULL,
	"value" double precision,
	"unit" text,
	"passed" boolean NOT NULL,
	"note" text,
	"recorded_at" timestamp (3) with time zone NOT NULL,
	"recorded_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retention_policy" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" integer,
	"data_point_id" integer,
	"raw_days" integer,
	"minute_days" integer,
	"hour_days" integer,
	CONSTRAINT "retention_policy_site" UNIQUE("site_id"),
	CONSTRAINT "retention_policy_data_point" UNIQUE("data_point_id"),
	CONSTRAINT "retention_policy_one_scope" CHECK (("retention_policy"."site_id" is null) <> ("retention_policy"."data_point_id" is null))
);
--> statement-breakpoint
CREATE TABLE "rollup_watermark" (
	"resolution" text PRIMARY KEY NOT NULL,
	"up_to" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_held" (
	"data_point_id" integer NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"value" double precision NOT NULL,
	"quality" smallint DEFAULT 0 NOT NULL,
	CONSTRAINT "telemetry_held_pkey" PRIMARY KEY("data_point_id","ts")
);
--> statement-breakpoint
CREATE TABLE "telemetry_rollup_1h" (
	"data_point_id" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"min" double precision NOT NULL,
	"max" double precision NOT NULL,
	"sum" double precision NOT NULL,
	"count" integer NOT NULL,
	"quality" smallint DEFAULT 0 NOT NULL,
	"first_value" double precision NOT NULL,
	"first_ts" timestamp (3) with time zone NOT NULL,
	"last_value" double precision NOT NULL,
	"last_ts" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "telemetry_rollup_1h_pkey" PRIMARY KEY("data_point_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "telemetry_rollup_1m" (
	"data_point_id" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"min" double precision NOT NULL,
	"max" double precision NOT NULL,
	"sum" double precision NOT NULL,
	"count" integer NOT NULL,
	"quality" smallint DEFAULT 0 NOT NULL,
	"first_value" double precision NOT NULL,
	"first_ts" timestamp (3) with time zone NOT NULL,
	"last_value" double precision NOT NULL,
	"last_ts" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "telemetry_rollup_1m_pkey" PRIMARY KEY("data_point_id","bucket")
);
--> statement-breakpoint
ALTER TABLE "lot_component" ADD CONSTRAINT "lot_component_lot_id_lot_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."lot"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot_component" ADD CONSTRAINT "lot_component_parent_lot_id_lot_id_fk" FOREIGN KEY ("parent_lot_id") REFERENCES "public"."lot"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lot" ADD CONSTRAINT "lot_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quality_result" ADD CONSTRAINT "quality_result_lot_id_lot_id_fk" FOREIGN KEY ("lot_id") REFERENCES "public"."lot"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retention_policy" ADD CONSTRAINT "retention_policy_site_id_site_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."site"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retention_policy" ADD CONSTRAINT "retention_policy_data_point_id_data_point_id_fk" FOREIGN KEY ("data_point_id") REFERENCES "public"."data_point"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lot_component_parent" ON "lot_component" USING btree ("parent_lot_id");--> statement-breakpoint
CREATE INDEX "lot_machine_started" ON "lot" USING btree ("machine_id","started_at");--> statement-breakpoint
CREATE INDEX "lot_on_hold" ON "lot" USING btree ("on_hold") WHERE "lot"."on_hold";--> statement-breakpoint
CREATE INDEX "quality_result_lot" ON "quality_result" USING btree ("lot_id","recorded_at");--> statement-breakpoint
-- hand-written
-- telemetry becomes a table partitioned by day on ts (UTC days, `telemetry_pYYYYMMDD`), with a
-- default partition so a reading outside every day partition is never lost. drizzle cannot declare
-- partitioning: schema/db/telemetry.ts and the snapshot keep describing the plain table (same
-- columns and key), so a later `db:generate` sees no change and never recreates it.
-- Existing readings are kept: the old table is renamed, its days get partitions, its rows move over.
ALTER TABLE "telemetry" RENAME TO "telemetry_before_partitioning";--> statement-breakpoint
ALTER TABLE "telemetry_before_partitioning" RENAME CONSTRAINT "telemetry_pkey" TO "telemetry_before_partitioning_pkey";--> statement-breakpoint
CREATE TABLE "telemetry" (
	"data_point_id" integer NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"value" double precision NOT NULL,
	"quality" smallint DEFAULT 0 NOT NULL,
	CONSTRAINT "telemetry_pkey" PRIMARY KEY("data_point_id","ts")
) PARTITION BY RANGE ("ts");--> statement-breakpoint
CREATE TABLE "telemetry_default" PARTITION OF "telemetry" DEFAULT;--> statement-breakpoint
-- Creates the partition of one UTC day unless it exists; readings of that day already in the
-- default partition move into it (ATTACH would refuse otherwise). Used here, at every start and
-- by the maintenance job that keeps a week of partitions ahead.
CREATE OR REPLACE FUNCTION telemetry_ensure_day_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	partition_name text := 'telemetry_p' || to_char(day, 'YYYYMMDD');
	day_start timestamptz := day::timestamp AT TIME ZONE 'UTC';
	day_end timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('plantgraph.telemetry-partitions'));
	IF to_regclass(partition_name) IS NOT NULL THEN
		RETURN false;
	END IF;
	EXECUTE format('CREATE TABLE %I (LIKE telemetry INCLUDING DEFAULTS)', partition_name);
	LOCK TABLE telemetry_default IN SHARE ROW EXCLUSIVE MODE;
	EXECUTE format(
		'WITH moved AS (DELETE FROM telemetry_default WHERE ts >= %L AND ts < %L RETURNING *) INSERT INTO %I SELECT * FROM moved',
		day_start, day_end, partition_name);
	EXECUTE format('ALTER TABLE telemetry ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', partition_name, day_start, day_end);
	RETURN true;
END
$$;--> statement-breakpoint
SELECT telemetry_ensure_day_partition(day) FROM (
	SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date AS day FROM "telemetry_before_partitioning"
	UNION
	SELECT generate_series((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 7, interval '1 day')::date
) AS days;--> statement-breakpoint
INSERT INTO "telemetry" ("data_point_id", "ts", "value", "quality")
	SELECT "data_point_id", "ts", "value", "quality" FROM "telemetry_before_partitioning";--> statement-breakpoint
DROP TABLE "telemetry_before_partitioning";
