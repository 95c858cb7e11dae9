// predict and feedback: talk to the built-in endpoint over HTTP with its bearer key.
import { workspaceClients } from '../adapters/azureml/client';
import { AzureMlDeployer } from '../adapters/azureml/deployer';
import { loadConfig } from '../temporal.config';
import { CliError } from './cli-error';
import { readCliDataFile } from './data-file';
import { endpointClient } from './endpoint-client';

interface EndpointOptions {
  model?: string;
  endpoint?: string;
}

type Scored = { model: string; version: number | string; deployment?: string; predictions: { label: string; probabilities: Record<string, number> }[] };

export async function predictCommand(texts: string[], opts: EndpointOptions & { json?: boolean }) {
  const out = opts.endpoint?.startsWith('azureml://')
    ? await scoreOnAzureMl(opts.endpoint, texts)
    : await (await endpointClient(opts.endpoint)).post<Scored>('/score', { ...(opts.model ? { model: opts.model } : {}), texts });
  if (opts.json) return console.log(JSON.stringify(out, null, 2));
  console.log(`${out.model} v${out.version}${out.deployment ? ` (Azure ML deployment ${out.deployment})` : ''}`);
  out.predictions.forEach((p, i) => {
    const conf = p.probabilities[p.label] ?? 0;
    console.log(`${p.label.padEnd(6)} ${(conf * 100).toFixed(1).padStart(5)}%  ${texts[i]}`);
  });
}

type FeedbackItem = { text?: string; requestId?: string; label: string };
interface FeedbackFields {
  text: string;
  label: string;
  requestId: string;
}

/**
 * Labelled production samples (JSONL or CSV) → the registry. A row names what it labels by
 * its text, by the request id it was served under (what analysts usually have), or both.
 */
export async function feedbackCommand(
  file: string,
  opts: EndpointOptions & { model: string; textField?: string; labelField?: string; requestIdField?: string; source?: string },
) {
  const fields: FeedbackFields = { text: opts.textField ?? 'text', label: opts.labelField ?? 'label', requestId: opts.requestIdField ?? 'requestId' };
  const { rows } = await readCliDataFile(file, file);
  const items: FeedbackItem[] = [];
  const bad: string[] = [];
  for (const row of rows) {
    const item = row.parseError !== undefined || !row.record ? (row.parseError ?? 'no record') : feedbackItem(row.record, fields);
    if (typeof item === 'string') bad.push(`line ${row.line}: ${item}`);
    else items.push(item);
  }
  if (bad.length)
    throw new CliError(`${file}: ${bad.length} unusable rows, nothing sent:\n  ${bad.slice(0, 10).join('\n  ')}${bad.length > 10 ? '\n  …' : ''}`, 2);
  const endpoint = await endpointClient(opts.endpoint);
  let accepted = 0;
  for (const batch of batches(items)) {
    const out = await endpoint.post<{ accepted: number }>('/feedback', { model: opts.model, items: batch, ...(opts.source ? { source: opts.source } : {}) });
    accepted += out.accepted;
  }
  const repeats = items.length - accepted;
  console.log(
    `✓ ${accepted} feedback rows recorded for ${opts.model}${repeats ? ` (${repeats} already recorded from the same source, not counted twice)` : ''}`,
  );
}

/** One row as a /feedback item, or what is wrong with it and how to fix it. */
export function feedbackItem(record: Record<string, unknown>, fields: FeedbackFields): FeedbackItem | string {
  const { [fields.text]: text, [fields.label]: label, [fields.requestId]: requestId } = record;
  const present = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (typeof label !== 'string' || !label.trim()) return `needs a string "${fields.label}"`;
  if (present(text) && typeof text !== 'string') return `"${fields.text}" must be a string, not ${typeof text}`;
  if (present(requestId) && typeof requestId !== 'string') return `"${fields.requestId}" must be a string, not ${typeof requestId} (quote it in JSONL)`;
  const t = typeof text === 'string' && text.trim() ? text : undefined;
  const id = typeof requestId === 'string' && requestId.trim() ? requestId.trim() : undefined;
  if (!t && !id)
    return `needs "${fields.text}" (the text that was scored) or "${fields.requestId}" (the request id it was served under), or both; name other columns with --text-field / --request-id-field`;
  return { ...(t !== undefined && { text: t }), ...(id !== undefined && { requestId: id }), label: label.trim() };
}

/** Requests under the endpoint's limits (1000 items, 1 MiB), with room for JSON overhead. */
function* batches<T>(items: T[], maxItems = 1000, maxBytes = 512 * 1024): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (batch.length && (batch.length >= maxItems || bytes + size > maxBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length) yield batch;
}

/** azureml://<workspace>/<endpoint>: score through the managed endpoint's scoring URI with its key. */
async function scoreOnAzureMl(url: string, texts: string[]): Promise<Scored> {
  const m = /^azureml:\/\/([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(url);
  if (!m) throw new CliError(`${url}: expected azureml://<workspace from the configuration>/<endpoint name>`, 2);
  const workspace = loadConfig().workspaces[m[1]!];
  if (!workspace) throw new CliError(`workspace "${m[1]}" is not in the configuration (mlc config show lists it; set MLC_CONFIG)`, 2);
  const res = await new AzureMlDeployer(workspaceClients(workspace)).score(m[2]!, texts);
  if (!res.ok) throw new CliError(`Azure ML endpoint ${m[2]} answered ${res.error}`);
  return { ...(res.body as Scored), deployment: res.deployment ?? undefined };
}
