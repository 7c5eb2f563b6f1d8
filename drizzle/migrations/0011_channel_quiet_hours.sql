CREATE TABLE "channel_settings" (
	"channel" text PRIMARY KEY NOT NULL,
	"quiet_hours" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
