CREATE TABLE "category_settings" (
	"category" text PRIMARY KEY NOT NULL,
	"quiet_hours" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "throttle_buckets" (
	"user_id" text NOT NULL,
	"channel" text NOT NULL,
	"tokens" double precision NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "throttle_buckets_user_id_channel_pk" PRIMARY KEY("user_id","channel")
);
--> statement-breakpoint
CREATE TABLE "type_settings" (
	"type" text PRIMARY KEY NOT NULL,
	"active_window_minutes" integer,
	"replace_window_minutes" integer,
	"delivery_enabled" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_preferences" (
	"user_id" text PRIMARY KEY NOT NULL,
	"time_zone" text,
	"quiet_hours" jsonb,
	"opted_out_categories" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"locale" text,
	"last_active_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "status_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "notifications_user_collapse_idx" ON "notifications" USING btree ("user_id","collapse_key");