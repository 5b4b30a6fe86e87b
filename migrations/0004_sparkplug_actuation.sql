CREATE TABLE "machine_connectivity" (
	"machine_id" integer PRIMARY KEY NOT NULL,
	"online" boolean NOT NULL,
	"reason" text NOT NULL,
	"changed_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "actuation_limit" (
	"data_point_id" integer PRIMARY KEY NOT NULL,
	"transport" text NOT NULL,
	"command_topic" text,
	"min" double precision,
	"max" double precision,
	"max_step" double precision,
	"min_interval_ms" integer,
	"critical" boolean DEFAULT false NOT NULL,
	"allow_automation" boolean DEFAULT false NOT NULL,
	"tolerance" double precision DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "actuation_limit_transport" CHECK ("actuation_limit"."transport" in ('mqtt', 'sparkplug', 'opcua')),
	CONSTRAINT "actuation_limit_range" CHECK ("actuation_limit"."min" is null or "actuation_limit"."max" is null or "actuation_limit"."min" <= "actuation_limit"."max")
);
--> statement-breakpoint
CREATE TABLE "actuation_request" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"machine_id" integer NOT NULL,
	"data_point_id" integer,
	"value" double precision,
	"method_id" integer,
	"arguments" jsonb,
	"dry_run" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"requested_by" text NOT NULL,
	"reason" text NOT NULL,
	"event_id" bigint,
	"decided_by" text,
	"decided_at" timestamp (3) with time zone,
	"before_value" double precision,
	"after_value" double precision,
	"detail" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "actuation_request_target" CHECK (("actuation_request"."data_point_id" is null) <> ("actuation_request"."method_id" is null) and ("actuation_request"."data_point_id" is null) = ("actuation_request"."value" is null)),
	CONSTRAINT "actuation_request_status" CHECK ("actuation_request"."status" in ('pending_approval', 'approved', 'refused', 'dry_run', 'sent', 'confirmed', 'mismatch', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "machine_method" (
	"id" serial PRIMARY KEY NOT NULL,
	"machine_id" integer NOT NULL,
	"name" text NOT NULL,
	"transport" text NOT NULL,
	"address" jsonb NOT NULL,
	"min_interval_ms" integer,
	"critical" boolean DEFAULT false NOT NULL,
	"allow_automation" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "machine_method_machine_name" UNIQUE("machine_id","name"),
	CONSTRAINT "machine_method_transport" CHECK ("machine_method"."transport" in ('mqtt', 'sparkplug', 'opcua'))
);
--> statement-breakpoint
ALTER TABLE "data_point" ADD COLUMN "sparkplug_group" text;--> statement-breakpoint
ALTER TABLE "data_point" ADD COLUMN "sparkplug_node" text;--> statement-breakpoint
ALTER TABLE "data_point" ADD COLUMN "sparkplug_device" text;--> statement-breakpoint
ALTER TABLE "data_point" ADD COLUMN "sparkplug_metric" text;--> statement-breakpoint
ALTER TABLE "machine_connectivity" ADD CONSTRAINT "machine_connectivity_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actuation_limit" ADD CONSTRAINT "actuation_limit_data_point_id_data_point_id_fk" FOREIGN KEY ("data_point_id") REFERENCES "public"."data_point"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actuation_request" ADD CONSTRAINT "actuation_request_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actuation_request" ADD CONSTRAINT "actuation_request_data_point_id_data_point_id_fk" FOREIGN KEY ("data_point_id") REFERENCES "public"."data_point"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actuation_request" ADD CONSTRAINT "actuation_request_method_id_machine_method_id_fk" FOREIGN KEY ("method_id") REFERENCES "public"."machine_method"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actuation_request" ADD CONSTRAINT "actuation_request_event_id_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."event"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "machine_method" ADD CONSTRAINT "machine_method_machine_id_machine_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machine"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "actuation_request_point_sent" ON "actuation_request" USING btree ("data_point_id","sent_at");--> statement-breakpoint
CREATE INDEX "actuation_request_status" ON "actuation_request" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "actuation_request_method_sent" ON "actuation_request" USING btree ("method_id","sent_at");--> statement-breakpoint
ALTER TABLE "data_point" ADD CONSTRAINT "data_point_sparkplug_node" CHECK (("data_point"."sparkplug_group" is null) = ("data_point"."sparkplug_node" is null));