// The registry's tables. One schema for PostgreSQL and embedded PGlite; the SQL migration in
// ./migrations is generated from this file (`npm run db:generate`), never written by hand.
// Every write path has a natural key with a unique constraint, so an activity that runs
// twice after a crash inserts once. Each table also has a serial id, which breaks ties
// between rows created in the same microsecond when we order by time.
import { sql } from 'drizzle-orm';
import { scriptCharsSql } from './text-features';
import { bigserial, boolean, doublePrecision, index, integer, jsonb, pgTable, real, serial, text, timestamp, unique, uniqueIndex } from 'drizzle-orm/pg-core';

type Json = Record<string, unknown>;
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const models = pgTable('models', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  spec: jsonb('spec').$type<Json>().notNull(),
  createdAt: createdAt(),
});

export const datasetVersions = pgTable(
  'dataset_versions',
  {
    id: serial('id').primaryKey(),
    model: text('model').notNull(),
    hash: text('hash').notNull(),
    uri: text('uri').notNull(),
    report: jsonb('report').$type<Json>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique('dataset_versions_model_hash_unique').on(t.model, t.hash)],
);

export const runs = pgTable(
  'runs',
  {
    id: serial('id').primaryKey(),
    runKey: text('run_key').notNull().unique(),
    model: text('model').notNull(),
    generation: integer('generation').notNull(),
    attempt: integer('attempt').notNull(),
    trial: integer('trial'),
    datasetHash: text('dataset_hash').notNull(),
    cluster: text('cluster').notNull(),
    params: jsonb('params').$type<Json>().notNull(),
    artifactUri: text('artifact_uri').notNull(),
    state: text('state').notNull().default('submitted'),
    slurmJobId: text('slurm_job_id'),
    metrics: jsonb('metrics').$type<Record<string, number>>().notNull().default({}),
    error: text('error'),
    /** The commit of the code that trained it (the job's checkout, else the worker's). */
    gitCommit: text('git_commit'),
    createdAt: createdAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('runs_model_idx').on(t.model)],
);

// A run's curves, as MLflow's metric history: one row per metric per training step. The key
// (run, metric, step) makes a retried registration insert nothing new. `epoch` is set on the
// per-epoch rows (validation metrics, the epoch's mean loss) and null on per-step ones.
export const metricHistory = pgTable(
  'metric_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runKey: text('run_key').notNull(),
    metric: text('metric').notNull(),
    step: integer('step').notNull(),
    epoch: integer('epoch'),
    value: doublePrecision('value').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('metric_history_run_metric_step_unique').on(t.runKey, t.metric, t.step)],
);

export const modelVersions = pgTable(
  'model_versions',
  {
    id: serial('id').primaryKey(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    runKey: text('run_key').notNull().unique(),
    artifactUri: text('artifact_uri').notNull(),
    sha256: text('sha256').notNull(),
    metrics: jsonb('metrics').$type<Json>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique('model_versions_model_version_unique').on(t.model, t.version)],
);

export const decisions = pgTable(
  'decisions',
  {
    id: serial('id').primaryKey(),
    decisionKey: text('decision_key').notNull().unique(),
    model: text('model').notNull(),
    version: integer('version'),
    kind: text('kind').notNull(),
    outcome: text('outcome').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    artifactSha256: text('artifact_sha256'),
    workflowId: text('workflow_id').notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true }).notNull(),
    /** The signed statement (a DSSE envelope) the decision was taken on; null: unsigned. */
    envelope: jsonb('envelope').$type<Json>(),
    /** keyid of the key that signed it. */
    signerKeyId: text('signer_key_id'),
    // The model's decisions form a hash chain in insertion order: each row's hash covers its
    // content and the previous row's hash, so editing or deleting a row breaks every later link.
    prevHash: text('prev_hash'),
    rowHash: text('row_hash'),
  },
  (t) => [index('decisions_model_decided_at_idx').on(t.model, t.decidedAt)],
);

// Named pointers to versions (MLflow's aliases, which replaced its stages): one row per
// (model, alias), moved by a single upsert; every move is also appended to the history below.
export const modelAliases = pgTable(
  'model_aliases',
  {
    id: serial('id').primaryKey(),
    model: text('model').notNull(),
    alias: text('alias').notNull(),
    version: integer('version').notNull(),
    setBy: text('set_by').notNull(),
    setAt: timestamp('set_at', { withTimezone: true }).notNull().defaultNow(),
    reason: text('reason').notNull(),
  },
  (t) => [unique('model_aliases_model_alias_unique').on(t.model, t.alias)],
);

/** Every move of an alias, append-only; `change_key` makes a retried move a no-op. */
export const modelAliasEvents = pgTable(
  'model_alias_events',
  {
    id: serial('id').primaryKey(),
    changeKey: text('change_key').notNull().unique(),
    model: text('model').notNull(),
    alias: text('alias').notNull(),
    /** Null when the alias was removed (champion, once its version is taken off the endpoint). */
    version: integer('version'),
    previousVersion: integer('previous_version'),
    setBy: text('set_by').notNull(),
    reason: text('reason').notNull(),
    setAt: timestamp('set_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('model_alias_events_model_set_at_idx').on(t.model, t.setAt)],
);

/** Public keys of the people and services whose signed decisions count (`mlc keys add`). */
export const signingKeys = pgTable(
  'signing_keys',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    publicKey: text('public_key').notNull().unique(),
    keyId: text('key_id').notNull(),
    addedBy: text('added_by').notNull(),
    addedAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('signing_keys_name_idx').on(t.name)],
);

export const deployments = pgTable(
  'deployments',
  {
    id: serial('id').primaryKey(),
    deploymentKey: text('deployment_key').notNull().unique(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    target: text('target').notNull(),
    endpointUrl: text('endpoint_url').notNull(),
    artifactSha256: text('artifact_sha256').notNull(),
    actor: text('actor').notNull(),
    deployedAt: timestamp('deployed_at', { withTimezone: true }).notNull().defaultNow(),
    /** Taken off the endpoint (mlc stop --undeploy): by whom, when and why. A newer deployment serves again. */
    retiredAt: timestamp('retired_at', { withTimezone: true }),
    retiredBy: text('retired_by'),
    retireReason: text('retire_reason'),
  },
  (t) => [index('deployments_model_deployed_at_idx').on(t.model, t.deployedAt)],
);

// A retried log call must not double-count. The key includes the text's hash (not the text:
// btree entries are size-limited) so a batch call that shares one request id across texts
// still logs every text.
export const predictions = pgTable(
  'predictions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    requestId: text('request_id').notNull(),
    text: text('text').notNull(),
    label: text('label').notNull(),
    probabilities: jsonb('probabilities').$type<Record<string, number>>().notNull(),
    // The encoder's pooled representation through the fixed random projection
    // (domain/embedding-projection.ts): what embedding drift samples. Null for rows
    // logged before it existed, or by a model exported without an embedding output.
    embedding: real('embedding').array(),
    // What the scorer's tokenizer made of the text (domain/monitoring/features.ts, TokenStats).
    tokens: integer('tokens'),
    truncated: boolean('truncated'),
    fallbackTokens: integer('fallback_tokens'),
    createdAt: createdAt(),
    // What monitoring measures of the text, computed by the database when the row is written
    // (adapters/db/text-features.ts): aggregating a million rows then needs no regex at all.
    textChars: integer('text_chars').generatedAlwaysAs(sql.raw('char_length("text")')),
    thaiChars: integer('thai_chars').generatedAlwaysAs(scriptCharsSql('thai')),
    latinChars: integer('latin_chars').generatedAlwaysAs(scriptCharsSql('latin')),
    digitChars: integer('digit_chars').generatedAlwaysAs(scriptCharsSql('digit')),
    spaceChars: integer('space_chars').generatedAlwaysAs(scriptCharsSql('space')),
  },
  (t) => [
    index('predictions_model_created_at_idx').on(t.model, t.createdAt),
    uniqueIndex('predictions_model_request_text_unique').on(t.model, t.requestId, sql`md5(${t.text})`),
  ],
);

// Feedback has no id of its own; the same (request id, text, label) from the same source is
// one fact, so re-importing a file adds nothing and addFeedback reports only the new rows.
// A row names the served request, the text, or both (never neither: addFeedback checks). The
// request id is part of the key because a batch request serves several texts under one id;
// coalesce keeps text-only rows keyed exactly as before the column existed.
export const feedback = pgTable(
  'feedback',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    model: text('model').notNull(),
    text: text('text'),
    requestId: text('request_id'),
    label: text('label').notNull(),
    source: text('source').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('feedback_model_created_at_idx').on(t.model, t.createdAt),
    uniqueIndex('feedback_model_source_label_request_text_unique').on(
      t.model,
      t.source,
      t.label,
      sql`coalesce(${t.requestId}, '')`,
      sql`md5(coalesce(${t.text}, ''))`,
    ),
  ],
);

export const monitoringReports = pgTable(
  'monitoring_reports',
  {
    id: serial('id').primaryKey(),
    reportKey: text('report_key').notNull().unique(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    windowEnd: timestamp('window_end', { withTimezone: true }).notNull(),
    report: jsonb('report').$type<Json>().notNull(),
    degraded: boolean('degraded').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('monitoring_reports_model_created_at_idx').on(t.model, t.createdAt)],
);
