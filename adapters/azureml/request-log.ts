// Reads back the predictions an Azure ML deployment logged to Blob (package/score.py appends
// one JSON line per text to <prefix>/<model>/<deployment>/<yyyy>/<mm>/<dd>/<HH>/<host>-<pid>.jsonl),
// so monitoring sees Azure traffic as it sees the local endpoint's (predictionsSince).
// Hour folders before `since` are never listed, and blobs are read as streams, line by line.
import { createInterface } from 'node:readline';
import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import type { PredictionRecord } from '../db/port';

export type LoggedPrediction = PredictionRecord & { createdAt: string };

const lineSchema = z.object({
  requestId: z.string(),
  model: z.string(),
  version: z.number().int(),
  deployment: z.string(),
  text: z.string(),
  label: z.string(),
  probabilities: z.record(z.string(), z.number()),
  at: z.iso.datetime({ offset: true }),
  /** A deployer's smoke request (checkAzureMlEndpoint), not production traffic. */
  smoke: z.boolean().optional(),
  // What monitoring measures beyond the answer (score.py's predict_observed); absent in lines
  // logged by a score.py from before them, or by a model exported without an embedding.
  tokens: z.number().int().nonnegative().optional(),
  truncated: z.boolean().optional(),
  fallbackTokens: z.number().int().nonnegative().optional(),
  embedding: z.array(z.number()).optional(),
});

/** One log line as a record, or why it is not one. */
export function parseRequestLogLine(line: string): (LoggedPrediction & { smoke?: boolean }) | { malformed: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { malformed: `not JSON: ${(e as Error).message}` };
  }
  const parsed = lineSchema.safeParse(value);
  if (!parsed.success) return { malformed: parsed.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ') };
  const { requestId, model, version, text, label, probabilities, at, smoke, tokens, truncated, fallbackTokens, embedding } = parsed.data;
  return {
    model,
    version,
    requestId,
    text,
    label,
    probabilities,
    createdAt: new Date(at).toISOString(),
    ...(smoke && { smoke }),
    ...(tokens !== undefined && { tokens, truncated: truncated ?? false, fallbackTokens: fallbackTokens ?? 0 }),
    ...(embedding && { embedding }),
  };
}

/** [yyyy, mm, dd, HH] of a date in UTC, as the folders spell them. */
export function hourParts(d: Date): string[] {
  return d.toISOString().slice(0, 13).split(/[-T]/);
}

export interface ReadRequestLogOptions {
  /** Told about every line skipped as malformed (blob name, 1-based line, why). */
  onMalformed?: (blob: string, line: number, reason: string) => void;
  /** Deployers' smoke requests are left out unless asked for: they are not production traffic. */
  includeSmoke?: boolean;
}

/** Logged predictions of `model` made at or after `since`, oldest first. */
/**
 * The model's logged predictions since a time, one at a time in blob and line order (hour
 * folders sort by time; lines by when they were appended): a monitoring window folds them as
 * they stream, so memory does not grow with the log.
 */
export async function* streamRequestLog(
  container: ContainerClient,
  prefix: string,
  model: string,
  since: Date,
  options: ReadRequestLogOptions = {},
): AsyncGenerator<LoggedPrediction> {
  const root = [prefix.replace(/^\/+|\/+$/g, ''), model].filter(Boolean).join('/') + '/';
  const floor = hourParts(since);
  const blobs: string[] = [];

  // Levels under root: deployment, then yyyy/mm/dd/HH compared with since's while equal so far.
  async function walk(path: string, level: number, tight: boolean): Promise<void> {
    if (level === 5) {
      for await (const blob of container.listBlobsFlat({ prefix: path })) blobs.push(blob.name);
      return;
    }
    for await (const item of container.listBlobsByHierarchy('/', { prefix: path })) {
      if (item.kind !== 'prefix') continue;
      const part = item.name.slice(path.length, -1);
      if (level === 0) {
        await walk(item.name, 1, true);
        continue;
      }
      const bound = floor[level - 1]!;
      if (tight && part < bound) continue;
      await walk(item.name, level + 1, tight && part === bound);
    }
  }
  await walk(root, 0, true);

  const sinceMs = since.getTime();
  for (const name of blobs) {
    const body = (await container.getBlobClient(name).download()).readableStreamBody;
    if (!body) continue;
    let n = 0;
    for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
      n++;
      if (!line.trim()) continue;
      const record = parseRequestLogLine(line);
      if ('malformed' in record) options.onMalformed?.(name, n, record.malformed);
      else if (record.model === model && Date.parse(record.createdAt) >= sinceMs && (options.includeSmoke || !record.smoke)) yield record;
    }
  }
}

/** All of them, sorted by time (stable: equal times keep blob and line order); for small reads such as feedback's request ids. */
export async function readRequestLog(...args: Parameters<typeof streamRequestLog>): Promise<LoggedPrediction[]> {
  const out: LoggedPrediction[] = [];
  for await (const record of streamRequestLog(...args)) out.push(record);
  return out.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}
