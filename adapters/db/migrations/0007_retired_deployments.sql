ALTER TABLE "model_alias_events" ALTER COLUMN "version" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "retired_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "retired_by" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "retire_reason" text;