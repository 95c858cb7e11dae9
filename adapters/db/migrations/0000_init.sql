CREATE TABLE "dataset_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"hash" text NOT NULL,
	"uri" text NOT NULL,
	"report" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dataset_versions_model_hash_unique" UNIQUE("model","hash")
);
--> statement-breakpoint
CREATE TABLE "decisions" (
	"id" serial PRIMARY KEY NOT NULL,
	"decision_key" text NOT NULL,
	"model" text NOT NULL,
	"version" integer,
	"kind" text NOT NULL,
	"outcome" text NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"artifact_sha256" text,
	"workflow_id" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	CONSTRAINT "decisions_decision_key_unique" UNIQUE("decision_key")
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" serial PRIMARY KEY NOT NULL,
	"deployment_key" text NOT NULL,
	"model" text NOT NULL,
	"version" integer NOT NULL,
	"target" text NOT NULL,
	"endpoint_url" text NOT NULL,
	"artifact_sha256" text NOT NULL,
	"actor" text NOT NULL,
	"deployed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deployments_deployment_key_unique" UNIQUE("deployment_key")
);
--> statement-breakpoint
CREATE TABLE "feedback" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"text" text NOT NULL,
	"label" text NOT NULL,
	"source" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"version" integer NOT NULL,
	"run_key" text NOT NULL,
	"artifact_uri" text NOT NULL,
	"sha256" text NOT NULL,
	"metrics" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_versions_run_key_unique" UNIQUE("run_key"),
	CONSTRAINT "model_versions_model_version_unique" UNIQUE("model","version")
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "models_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "monitoring_reports" (
	"id" serial PRIMARY KEY NOT NULL,
	"report_key" text NOT NULL,
	"model" text NOT NULL,
	"version" integer NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"report" jsonb NOT NULL,
	"degraded" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "monitoring_reports_report_key_unique" UNIQUE("report_key")
);
--> statement-breakpoint
CREATE TABLE "predictions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"version" integer NOT NULL,
	"request_id" text NOT NULL,
	"text" text NOT NULL,
	"label" text NOT NULL,
	"probabilities" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"run_key" text NOT NULL,
	"model" text NOT NULL,
	"generation" integer NOT NULL,
	"attempt" integer NOT NULL,
	"trial" integer,
	"dataset_hash" text NOT NULL,
	"cluster" text NOT NULL,
	"params" jsonb NOT NULL,
	"artifact_uri" text NOT NULL,
	"state" text DEFAULT 'submitted' NOT NULL,
	"slurm_job_id" text,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "runs_run_key_unique" UNIQUE("run_key")
);
--> statement-breakpoint
CREATE INDEX "decisions_model_decided_at_idx" ON "decisions" USING btree ("model","decided_at");--> statement-breakpoint
CREATE INDEX "deployments_model_deployed_at_idx" ON "deployments" USING btree ("model","deployed_at");--> statement-breakpoint
CREATE INDEX "feedback_model_created_at_idx" ON "feedback" USING btree ("model","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "feedback_model_source_label_text_unique" ON "feedback" USING btree ("model","source","label",md5("text"));--> statement-breakpoint
CREATE INDEX "monitoring_reports_model_created_at_idx" ON "monitoring_reports" USING btree ("model","created_at");--> statement-breakpoint
CREATE INDEX "predictions_model_created_at_idx" ON "predictions" USING btree ("model","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "predictions_model_request_text_unique" ON "predictions" USING btree ("model","request_id",md5("text"));--> statement-breakpoint
CREATE INDEX "runs_model_idx" ON "runs" USING btree ("model");