ALTER TABLE "predictions" ADD COLUMN "tokens" integer;--> statement-breakpoint
ALTER TABLE "predictions" ADD COLUMN "truncated" boolean;--> statement-breakpoint
ALTER TABLE "predictions" ADD COLUMN "fallback_tokens" integer;