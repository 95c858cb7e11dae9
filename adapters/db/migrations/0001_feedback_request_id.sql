DROP INDEX "feedback_model_source_label_text_unique";--> statement-breakpoint
ALTER TABLE "feedback" ALTER COLUMN "text" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "request_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "feedback_model_source_label_request_text_unique" ON "feedback" USING btree ("model","source","label",coalesce("request_id", ''),md5(coalesce("text", '')));