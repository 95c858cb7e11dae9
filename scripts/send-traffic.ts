// Demo traffic: send texts from a JSONL file to the endpoint in small batches, as a client
// application would. Usage: tsx scripts/send-traffic.ts <file.jsonl> <model> [count]
import fs from 'node:fs/promises';
import { loadEndpointKey } from '../adapters/endpoint/secret';
import { loadConfig } from '../temporal.config';

const [file, model, count = '200'] = process.argv.slice(2);
if (!file || !model) {
  console.error('usage: tsx scripts/send-traffic.ts <file.jsonl> <model> [count]');
  process.exit(2);
}
const config = loadConfig();
const key = await loadEndpointKey(config.paths.secrets, process.env);
const texts = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text).slice(0, Number(count));
const tally: Record<string, number> = {};
for (let i = 0; i < texts.length; i += 20) {
  const res = await fetch(`http://${config.endpoint.host}:${config.endpoint.port}/score`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, texts: texts.slice(i, i + 20) }),
  });
  if (!res.ok) throw new Error(`endpoint answered ${res.status}: ${await res.text()}`);
  for (const p of ((await res.json()) as { predictions: { label: string }[] }).predictions) tally[p.label] = (tally[p.label] ?? 0) + 1;
}
console.log(`sent ${texts.length} texts to ${model}; predicted labels: ${JSON.stringify(tally)}`);
