CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"digest" text NOT NULL,
	"prefix" text NOT NULL,
	"scope" text NOT NULL,
	"name" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_digest_idx" ON "api_keys" USING btree ("digest");