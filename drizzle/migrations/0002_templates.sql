CREATE TABLE "templates" (
	"key" text NOT NULL,
	"locale" text NOT NULL,
	"channel" text NOT NULL,
	"title" text,
	"body" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "templates_key_locale_channel_pk" PRIMARY KEY("key","locale","channel")
);
