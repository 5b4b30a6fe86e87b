CREATE TABLE "data_gap" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"endpoint_id" integer,
	"started_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "opcua_binding" (
	"data_point_id" integer PRIMARY KEY NOT NULL,
	"endpoint_id" integer NOT NULL,
	"node_id" text,
	"browse_path" text,
	"sampling_interval_ms" integer DEFAULT 1000 NOT NULL,
	"queue_size" integer DEFAULT 1 NOT NULL,
	"deadband_type" text DEFAULT 'none' NOT NULL,
	"deadband_value" double precision DEFAULT 0 NOT NULL,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	CONSTRAINT "opcua_binding_address" CHECK (("opcua_binding"."node_id" is null) <> ("opcua_binding"."browse_path" is null)),
	CONSTRAINT "opcua_binding_deadband" CHECK ("opcua_binding"."deadband_type" in ('none', 'absolute', 'percent'))
);
--> statement-breakpoint
CREATE TABLE "opcua_endpoint" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"site" text,
	"url" text NOT NULL,
	"security_mode" text NOT NULL,
	"security_policy" text NOT NULL,
	"identity" text DEFAULT 'anonymous' NOT NULL,
	"username" text,
	"secrets_ciphertext" text NOT NULL,
	"secrets_key_id" text NOT NULL,
	"publishing_interval_ms" integer DEFAULT 1000 NOT NULL,
	"max_items_per_subscription" integer DEFAULT 1000 NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"connected_at" timestamp with time zone,
	"last_error_at" timestamp with time zone,
	"last_error" text,
	CONSTRAINT "opcua_endpoint_name_unique" UNIQUE("name"),
	CONSTRAINT "opcua_endpoint_security_mode" CHECK ("opcua_endpoint"."security_mode" in ('None', 'Sign', 'SignAndEncrypt')),
	CONSTRAINT "opcua_endpoint_security_policy" CHECK ("opcua_endpoint"."security_policy" in ('None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss')),
	CONSTRAINT "opcua_endpoint_identity" CHECK ("opcua_endpoint"."identity" in ('anonymous', 'username', 'x509')),
	CONSTRAINT "opcua_endpoint_security" CHECK (("opcua_endpoint"."security_mode" = 'None') = ("opcua_endpoint"."security_policy" = 'None')),
	CONSTRAINT "opcua_endpoint_username" CHECK (("opcua_endpoint"."identity" = 'username') = ("opcua_endpoint"."username" is not null))
);
--> statement-breakpoint
ALTER TABLE "data_gap" ADD CONSTRAINT "data_gap_endpoint_id_opcua_endpoint_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."opcua_endpoint"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opcua_binding" ADD CONSTRAINT "opcua_binding_data_point_id_data_point_id_fk" FOREIGN KEY ("data_point_id") REFERENCES "public"."data_point"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opcua_binding" ADD CONSTRAINT "opcua_binding_endpoint_id_opcua_endpoint_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."opcua_endpoint"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "data_gap_endpoint_started" ON "data_gap" USING btree ("endpoint_id","started_at");--> statement-breakpoint
CREATE INDEX "opcua_binding_endpoint" ON "opcua_binding" USING btree ("endpoint_id");