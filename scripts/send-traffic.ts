// Demo traffic: send texts from a JSONL file to the endpoint in small batches, as a client
// application would. Usage: tsx scripts/send-traffic.ts <file.jsonl> <model> [count]
import fs from 'node:fs/promises';
import { endpointClient } from '../cli/endpoint-client';

const [file, model, count = '200'] = process.argv.slice(2);
if (!file || !model) {
  console.error('usage: tsx scripts/send-traffic.ts <file.jsonl> <model> [count]');
  process.exit(2);
}
const endpoint = await endpointClient();
const texts = (await fs.readFile(file, 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text)
  .slice(0, Number(count));
const tally: Record<string, number> = {};
for (let i = 0; i < texts.length; i += 20) {
  const { predictions } = await endpoint.post<{ predictions: { label: string }[] }>('/score', { model, texts: texts.slice(i, i + 20) });
  for (const p of predictions) tally[p.label] = (tally[p.label] ?? 0) + 1;
}
console.log(`sent ${texts.length} texts to ${model}; predicted labels: ${JSON.stringify(tally)}`);
