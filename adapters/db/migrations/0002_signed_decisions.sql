CREATE TABLE "signing_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"public_key" text NOT NULL,
	"key_id" text NOT NULL,
	"added_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "signing_keys_public_key_unique" UNIQUE("public_key")
);
--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "envelope" jsonb;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "signer_key_id" text;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "row_hash" text;--> statement-breakpoint
CREATE INDEX "signing_keys_name_idx" ON "signing_keys" USING btree ("name");--> statement-breakpoint
-- Decisions are an append-only log: the registry never updates or deletes one, and the database
-- refuses it too. Someone able to disable this trigger can still edit rows; the hash chain
-- (prev_hash, row_hash) is what `mlc audit verify` checks to catch that.
CREATE OR REPLACE FUNCTION "decisions_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'decisions are append-only: % of decision % refused', TG_OP, OLD.id;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "decisions_append_only" BEFORE UPDATE OR DELETE ON "decisions" FOR EACH ROW EXECUTE FUNCTION "decisions_append_only"();
