CREATE TABLE "line_production_count" (
	"line_id" integer NOT NULL,
	"grain_seconds" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"produced" double precision DEFAULT 0 NOT NULL,
	"good" double precision DEFAULT 0 NOT NULL,
	"scrap" double precision DEFAULT 0 NOT NULL,
	"ideal_seconds" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "line_production_count_pkey" PRIMARY KEY("line_id","grain_seconds","bucket")
);
--> statement-breakpoint
CREATE TABLE "line_state_rollup" (
	"line_id" integer NOT NULL,
	"grain_seconds" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"state" text NOT NULL,
	"reason" text NOT NULL,
	"seconds" double precision NOT NULL,
	CONSTRAINT "line_state_rollup_pkey" PRIMARY KEY("line_id","grain_seconds","bucket","state","reason")
);
--> statement-breakpoint
CREATE TABLE "machine_state_config" (
	"machine_id" integer PRIMARY KEY NOT NULL,
	"config" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "machine_state_interval" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"machine_id" integer NOT NULL,
	"state" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"source" text NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"confirmed_until" timestamp (3) with time zone,
	CONSTRAINT "machine_state_interval_order" CHECK ("machine_state_interval"."ended_at" is null or "machine_state_interval"."ended_at" > "machine_state_interval"."started_at")
);
--> statement-breakpoint
CREATE TABLE "machine_state_rollup" (
	"machine_id" integer NOT NULL,
	"grain_seconds" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"state" text NOT NULL,
	"reason" text NOT NULL,
	"seconds" double precision NOT NULL,
	CONSTRAINT "machine_state_rollup_pkey" PRIMARY KEY("machine_id","grain_seconds","bucket","state","reason")
);
--> statement-breakpoint
CREATE TABLE "production_count" (
	"machine_id" integer NOT NULL,
	"grain_seconds" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"product" text NOT NULL,
	"produced" double precision DEFAULT 0 NOT NULL,
	"good" double precision DEFAULT 0 NOT NULL,
	"scrap" double precision DEFAULT 0 NOT NULL,
	"ideal_seconds" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "production_count_pkey" PRIMARY KEY("machine_id","grain_seconds","bucket","product")
);
--> statement-breakpoint
CREATE TABLE "shift_calendar" (
	"id" serial PRIMARY KEY NOT NULL,
	"site_id" integer NOT NULL,
	"line_id" integer,
	"spec" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shift_calendar_spec_object" CHECK (jsonb_typeof("shift_calendar"."spec") = 'object')
);
--> statement-breakpoint
CREATE TABLE "production_order" (
	"id" serial PRIMARY KEY NOT NULL,
	"number" text NOT NULL,
	"product" text NOT NULL,
	"quantity" integer NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"machine_id" integer,
	"line_id" integer,
	"sequence" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'planned' NOT NULL,
	"produced" double precision DEFAULT 0 NOT NULL,
	"good" double precision DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"projected_completion_at" timestamp with time zone,
	"at_risk" boolean DEFAULT false NOT NULL,
	"risk_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "production_order_number_unique" UNIQUE("number"),
	CONSTRAINT "production_order_quantity" CHECK ("production_order"."quantity" > 0),
	CONSTRAINT "production_order_status" CHECK ("production_order"."status" in ('planned', 'in_progress', 'completed', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "machine_state_config" ADD CONSTRAINT "machine_state_config_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "machine_state_interval" ADD CONSTRAINT "machine_state_interval_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shift_calendar" ADD CONSTRAINT "shift_calendar_site_id_site_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."site"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shift_calendar" ADD CONSTRAINT "shift_calendar_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production_order" ADD CONSTRAINT "production_order_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production_order" ADD CONSTRAINT "production_order_line_id_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."line"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "machine_state_interval_start" ON "machine_state_interval" USING btree ("machine_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "machine_state_interval_open" ON "machine_state_interval" USING btree ("machine_id") WHERE "machine_state_interval"."ended_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "shift_calendar_site" ON "shift_calendar" USING btree ("site_id") WHERE "shift_calendar"."line_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "shift_calendar_line" ON "shift_calendar" USING btree ("line_id") WHERE "shift_calendar"."line_id" is not null;--> statement-breakpoint
CREATE INDEX "production_order_machine_status" ON "production_order" USING btree ("machine_id","status");--> statement-breakpoint
CREATE INDEX "production_order_line_status" ON "production_order" USING btree ("line_id","status");