// Logging predictions is the endpoint's hottest write: one call per scored batch, on the event
// loop that also serves HTTP. Drizzle's insert builder cost about 100 µs per row and 400 µs per
// call on PGlite (bench/README.md); one hand-written multi-row INSERT with positional parameters
// costs about half. The column names come from the drizzle schema, so the two cannot drift; the
// generated text-feature columns fill themselves, as with drizzle.
import type { PredictionRecord } from './port';
import { predictions as p } from './schema';

export interface Statement {
  text: string;
  params: unknown[];
}

/**
 * Runs statements with positional parameters ($1, $2, …) on the registry's own driver (open.ts):
 * one alone, several in one transaction, so a log call is written whole or not at all.
 */
export type ExecuteSql = (statements: Statement[]) => Promise<void>;

const columns = [p.model, p.version, p.requestId, p.text, p.label, p.probabilities, p.embedding, p.tokens, p.truncated, p.fallbackTokens];
const casts = ['', '', '', '', '', '::jsonb', '::real[]', '', '', ''];
/** Well under PostgreSQL's 65,535 parameters per statement. */
const ROWS_PER_STATEMENT = 1000;

function row(r: PredictionRecord): unknown[] {
  return [
    r.model,
    r.version,
    r.requestId,
    r.text,
    r.label,
    JSON.stringify(r.probabilities),
    // An array literal: both drivers pass text through unchanged, and PostgreSQL parses NaN and 1e-7 alike.
    r.embedding ? `{${r.embedding.join(',')}}` : null,
    r.tokens ?? null,
    r.truncated ?? null,
    r.fallbackTokens ?? null,
  ];
}

/** The statements that log `records`; a row already logged (same model, request id and text) is skipped. */
export function predictionInserts(records: readonly PredictionRecord[]): Statement[] {
  const statements: Statement[] = [];
  for (let start = 0; start < records.length; start += ROWS_PER_STATEMENT) {
    const params: unknown[] = [];
    const values: string[] = [];
    for (const r of records.slice(start, start + ROWS_PER_STATEMENT)) {
      const base = params.length;
      params.push(...row(r));
      values.push(`(${casts.map((cast, i) => `$${base + i + 1}${cast}`).join(',')})`);
    }
    statements.push({
      text: `insert into "predictions" (${columns.map((c) => `"${c.name}"`).join(',')}) values ${values.join(',')} on conflict do nothing`,
      params,
    });
  }
  return statements;
}
