CREATE TABLE "metric_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_key" text NOT NULL,
	"metric" text NOT NULL,
	"step" integer NOT NULL,
	"epoch" integer,
	"value" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_alias_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"change_key" text NOT NULL,
	"model" text NOT NULL,
	"alias" text NOT NULL,
	"version" integer NOT NULL,
	"previous_version" integer,
	"set_by" text NOT NULL,
	"reason" text NOT NULL,
	"set_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_alias_events_change_key_unique" UNIQUE("change_key")
);
--> statement-breakpoint
CREATE TABLE "model_aliases" (
	"id" serial PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"alias" text NOT NULL,
	"version" integer NOT NULL,
	"set_by" text NOT NULL,
	"set_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text NOT NULL,
	CONSTRAINT "model_aliases_model_alias_unique" UNIQUE("model","alias")
);
--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "git_commit" text;--> statement-breakpoint
CREATE UNIQUE INDEX "metric_history_run_metric_step_unique" ON "metric_history" USING btree ("run_key","metric","step");--> statement-breakpoint
CREATE INDEX "model_alias_events_model_set_at_idx" ON "model_alias_events" USING btree ("model","set_at");--> statement-breakpoint
-- The deployed version is always the alias "champion": a registry that deployed before aliases
-- existed gets it from its newest deployment (a rollback is a deployment too).
INSERT INTO "model_aliases" ("model", "alias", "version", "set_by", "set_at", "reason")
SELECT DISTINCT ON ("model") "model", 'champion', "version", "actor", "deployed_at", 'deployed to ' || "target" || ' (recorded before aliases existed)'
FROM "deployments" ORDER BY "model", "deployed_at" DESC, "id" DESC;--> statement-breakpoint
INSERT INTO "model_alias_events" ("change_key", "model", "alias", "version", "previous_version", "set_by", "reason", "set_at")
SELECT 'backfill:' || "model" || ':' || "alias", "model", "alias", "version", NULL, "set_by", "reason", "set_at" FROM "model_aliases";--> statement-breakpoint
-- Alias moves are a record, like decisions: the registry only appends, and the database refuses the rest.
CREATE OR REPLACE FUNCTION "model_alias_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'model alias history is append-only: % of event % refused', TG_OP, OLD.id;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "model_alias_events_append_only" BEFORE UPDATE OR DELETE ON "model_alias_events" FOR EACH ROW EXECUTE FUNCTION "model_alias_events_append_only"();
