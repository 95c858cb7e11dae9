// A monitoring window aggregated where the predictions live: one grouped scan of the
// predictions table returns a histogram per feature and the confidence cells CBPE needs — a few
// thousand rows for a million predictions — so the worker never holds the window's rows. Same
// SQL on PostgreSQL and PGlite.
//
// It must agree with domain/monitoring/features.ts (the accumulator the reference and Azure ML's
// request logs go through): the script counts are generated columns built from the same
// code-point ranges, and values are binned as floor(v · scale + 0.5) on both sides.
// Also here: the predictions feedback names, and the reports monitoring reads back.
// Repeats are counted over hashtext(text), a 32-bit hash: a million distinct texts collide in
// about a hundred pairs, which moves the repeat rate by 0.01 percentage points.
import { and, asc, desc, eq, gte, inArray, sql, type SQL } from 'drizzle-orm';
import {
  EMBEDDING_SAMPLE,
  PROBABILITY_SCALE,
  numericFeatures,
  probabilityFeature,
  type ConfidenceCell,
  type WindowSummary,
} from '../../domain/monitoring/features';
import { histogramOf } from '../../domain/monitoring/stats';
import type { PredictionRecord } from './port';
import type { RegistryDb } from './registry';
import * as t from './schema';

export interface PredictionWindow {
  model: string;
  version: number;
  /** ISO times: rows created at or after `from` and before `to`. */
  from: string;
  to: string;
  labels: readonly string[];
  /**
   * Concurrent queries, each over every parts-th row (by id), merged here: PostgreSQL runs a
   * grouping-sets aggregate on one core, so two parts use two. PGlite runs them one by one.
   */
  parts?: number;
}

type Row = Record<string, unknown>;
const rowsOf = (result: unknown): Row[] => (Array.isArray(result) ? (result as Row[]) : ((result as { rows: Row[] }).rows ?? []));

/** The numeric columns of the inner query, in the order grouping() reports them. */
function columns(labels: readonly string[]) {
  return numericFeatures(labels).map((f) => `v_${f.id}`);
}

function windowQuery(w: PredictionWindow, part: number, parts: number): SQL {
  const labels = w.labels;
  const p = labels.map((_, i) => sql.raw(`p${i}`));
  const extract = labels.map((l, i) => sql`coalesce((${t.predictions.probabilities} ->> ${l})::float8, 0) as ${p[i]}`);
  const entropy = sql.join(
    p.map((pi) => sql`(case when ${pi} > 0 then ${pi} * ln(${pi}) else 0 end)`),
    sql` + `,
  );
  const share = (count: string) => sql.raw(`case when chars > 0 then floor((${count})::float8 / chars * 100 + 0.5)::int end`);
  const bin = (v: SQL) => sql`floor(${v} * ${sql.raw(String(PROBABILITY_SCALE))} + 0.5)::int`;
  const spread = labels.map((_, i) => sql`case when pmax < 1 then ${p[i]} / (1 - pmax) else 0 end as ${sql.raw(`s${i}`)}`);
  const cols = columns(labels);
  const feature = (id: string) => sql.raw(`v_${id}`);
  const inner = sql`
    select label, chars as v_chars,
      ${share('thai_chars')} as v_thai_share, ${share('latin_chars')} as v_latin_share, ${share('digit_chars')} as v_digit_share,
      ${share('chars - thai_chars - latin_chars - digit_chars - space_chars')} as v_symbol_share,
      tokens as v_tokens, truncated::int as v_truncated,
      case when tokens > 0 then floor(fallback_tokens::float8 / tokens * 100 + 0.5)::int end as v_fallback_token_share,
      ${bin(sql.raw('pmax'))} as v_max_probability, ${bin(sql.raw('entropy'))} as v_entropy,
      ${sql.join(
        labels.map((l, i) => sql`${bin(p[i]!)} as ${feature(probabilityFeature(l))}`),
        sql`, `,
      )},
      ${sql.join(spread, sql`, `)}
    from (
      select *, greatest(${sql.join(p, sql`, `)}) as pmax, -(${entropy}) as entropy
      from (
        select ${t.predictions.label} as label, ${t.predictions.textChars} as chars, ${t.predictions.thaiChars} as thai_chars,
          ${t.predictions.latinChars} as latin_chars, ${t.predictions.digitChars} as digit_chars, ${t.predictions.spaceChars} as space_chars,
          ${t.predictions.tokens} as tokens, ${t.predictions.truncated} as truncated, ${t.predictions.fallbackTokens} as fallback_tokens,
          ${sql.join(extract, sql`, `)}
        from ${t.predictions}
        where ${t.predictions.model} = ${w.model} and ${t.predictions.version} = ${w.version}
          and ${t.predictions.createdAt} >= ${w.from}::timestamptz and ${t.predictions.createdAt} < ${w.to}::timestamptz
          ${parts > 1 ? sql`and ${t.predictions.id} % ${parts} = ${part}` : sql``}
        offset 0
      ) extracted
      offset 0
    ) derived
    offset 0`;
  // "offset 0" keeps each level a subquery: flattened, PostgreSQL would re-extract the JSON for every use.
  const sets = [sql.raw('(label, v_max_probability)'), ...cols.map((c) => sql.raw(`(${c})`))];
  // Which grouping set a row belongs to: -1 the confidence cells, else the feature's index.
  const which = sql.raw(`case when grouping(label) = 0 then -1 ${cols.map((c, i) => `when grouping(${c}) = 0 then ${i}`).join(' ')} end`);
  return sql`
    select ${which} as which, label, coalesce(${sql.raw(cols.join(', '))}) as value, count(*)::int as n,
      ${sql.join(
        labels.map((_, i) => sql`sum(${sql.raw(`s${i}`)})::float8 as ${sql.raw(`s${i}`)}`),
        sql`, `,
      )}
    from (${inner}) binned
    group by grouping sets (${sql.join(sets, sql`, `)})`;
}

/** One part's grouped rows into histograms and cells; parts merge by adding. */
function collect(w: PredictionWindow, rows: Row[], into: { numeric: Map<string, Map<number, number>>; cells: Map<string, ConfidenceCell> }) {
  const features = numericFeatures(w.labels);
  for (const r of rows) {
    const which = Number(r.which);
    const n = Number(r.n);
    if (which === -1) {
      const label = String(r.label);
      const confidence = Number(r.value) / PROBABILITY_SCALE;
      const key = `${label}\u0000${confidence}`;
      const cell = into.cells.get(key) ?? { label, confidence, rows: 0, spread: Object.fromEntries(w.labels.map((l) => [l, 0])) };
      cell.rows += n;
      w.labels.forEach((l, i) => (cell.spread[l]! += Number(r[`s${i}`] ?? 0)));
      into.cells.set(key, cell);
      continue;
    }
    const f = features[which];
    if (!f || r.value === null || r.value === undefined) continue; // an empty text has no shares
    const h = into.numeric.get(f.id) ?? new Map<number, number>();
    const v = Number(r.value) / f.scale;
    h.set(v, (h.get(v) ?? 0) + n);
    into.numeric.set(f.id, h);
  }
}

export async function summarizePredictions(db: RegistryDb, w: PredictionWindow): Promise<WindowSummary> {
  const parts = Math.max(1, Math.floor(w.parts ?? 2));
  const into = { numeric: new Map<string, Map<number, number>>(), cells: new Map<string, ConfidenceCell>() };
  const filter = sql`${t.predictions.model} = ${w.model} and ${t.predictions.version} = ${w.version}
    and ${t.predictions.createdAt} >= ${w.from}::timestamptz and ${t.predictions.createdAt} < ${w.to}::timestamptz`;
  const [grouped, distinct, embedded] = await Promise.all([
    Promise.all(
      Array.from({ length: parts }, (_, part) =>
        db.transaction(async (tx) => {
          // JIT compilation of this wide expression costs PostgreSQL 15 seconds before the first row.
          await tx.execute(sql`set local jit = off`);
          return rowsOf(await tx.execute(windowQuery(w, part, parts)));
        }),
      ),
    ),
    db.execute(sql`select count(*)::int as distinct_texts from (select 1 from ${t.predictions} where ${filter} group by hashtext(${t.predictions.text})) d`),
    // A uniform sample, bounded: a top-N sort keeps only EMBEDDING_SAMPLE rows in memory.
    db.execute(
      sql`select array_to_json(${t.predictions.embedding}) as embedding from ${t.predictions} where ${filter} and ${t.predictions.embedding} is not null order by random() limit ${EMBEDDING_SAMPLE}`,
    ),
  ]);
  const embeddings = rowsOf(embedded).map((r) => (r.embedding as number[]).map(Number));
  for (const rows of grouped) collect(w, rows, into);
  const labels: Record<string, number> = Object.fromEntries(w.labels.map((l) => [l, 0]));
  let rows = 0;
  for (const cell of into.cells.values()) {
    labels[cell.label] = (labels[cell.label] ?? 0) + cell.rows;
    rows += cell.rows;
  }
  const numeric = Object.fromEntries(numericFeatures(w.labels).map((f) => [f.id, histogramOf(into.numeric.get(f.id) ?? [])]));
  return {
    rows,
    distinctTexts: Number(rowsOf(distinct)[0]?.distinct_texts ?? 0),
    emptyTexts: numeric.chars!.find(([v]) => v === 0)?.[1] ?? 0,
    numeric,
    labels,
    confidence: [...into.cells.values()].sort((a, b) => a.label.localeCompare(b.label) || a.confidence - b.confidence),
    ...(embeddings.length ? { embeddings } : {}),
  };
}

/** Predictions served under these request ids since `since` (of one version, or any): what feedback names. */
export async function predictionsByRequestIds(db: RegistryDb, q: { model: string; version?: number; requestIds: string[]; since: string }) {
  const { model, version, requestIds, since } = q;
  if (requestIds.length === 0) return [];
  const out: (PredictionRecord & { createdAt: string })[] = [];
  const unique = [...new Set(requestIds)];
  for (let i = 0; i < unique.length; i += 1000) {
    const rows = await db
      .select({
        model: t.predictions.model,
        version: t.predictions.version,
        requestId: t.predictions.requestId,
        text: t.predictions.text,
        label: t.predictions.label,
        probabilities: t.predictions.probabilities,
        createdAt: t.predictions.createdAt,
      })
      .from(t.predictions)
      .where(
        and(
          eq(t.predictions.model, model),
          version === undefined ? undefined : eq(t.predictions.version, version),
          gte(t.predictions.createdAt, new Date(since)),
          inArray(t.predictions.requestId, unique.slice(i, i + 1000)),
        ),
      )
      .orderBy(asc(t.predictions.createdAt), asc(t.predictions.id));
    out.push(...rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })));
  }
  return out;
}

/** A model's monitoring reports, newest first: the past windows a run decides on, and the trend view. */
export async function monitoringReports(db: RegistryDb, model: string, limit: number) {
  const rows = await db
    .select()
    .from(t.monitoringReports)
    .where(eq(t.monitoringReports.model, model))
    .orderBy(desc(t.monitoringReports.createdAt), desc(t.monitoringReports.id))
    .limit(limit);
  return rows.map(({ id: _id, windowStart, windowEnd, createdAt, ...rest }) => ({
    ...rest,
    windowStart: windowStart.toISOString(),
    windowEnd: windowEnd.toISOString(),
    createdAt: createdAt.toISOString(),
  }));
}
