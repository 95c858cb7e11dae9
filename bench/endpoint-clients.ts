// The clients of bench/endpoint.ts, in a process of their own so that their work does not run on
// the endpoint's event loop: N closed-loop clients, each with its own API key and keep-alive
// connection, each sending one text per /score request until the time is up. Started by
// bench/endpoint.ts with a ClientsJob over IPC; answers with a ClientsResult.
import { Agent, request } from 'node:http';

export interface ClientsJob {
  url: string;
  model: string;
  /** One key per client. */
  keys: string[];
  texts: string[];
  warmupMs: number;
  measureMs: number;
}

export interface ClientsResult {
  /** Latency (ms) of each request that finished inside the measured window. */
  latencies: number[];
  /** Status code → requests, inside the window. */
  statuses: Record<string, number>;
  /** Texts answered with predictions (status 200), over the whole run: what must be logged. */
  answeredTexts: number;
  /** Requests that never got an HTTP answer (connection errors), over the whole run. */
  failed: number;
  firstFailure?: string;
}

function post(agent: Agent, url: URL, key: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runClients(job: ClientsJob): Promise<ClientsResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.keys.length });
  const url = new URL('/score', job.url);
  const start = performance.now();
  const measureFrom = start + job.warmupMs;
  const stopAt = measureFrom + job.measureMs;
  const result: ClientsResult = { latencies: [], statuses: {}, answeredTexts: 0, failed: 0 };
  let next = 0;

  async function client(key: string): Promise<void> {
    while (performance.now() < stopAt) {
      const text = job.texts[next++ % job.texts.length]!;
      const sent = performance.now();
      try {
        const res = await post(agent, url, key, JSON.stringify({ model: job.model, texts: [text] }));
        const done = performance.now();
        if (res.status === 200) result.answeredTexts += (JSON.parse(res.body) as { predictions: unknown[] }).predictions.length;
        if (done >= measureFrom && done <= stopAt) {
          result.latencies.push(done - sent);
          result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1;
        }
      } catch (e) {
        result.failed++;
        result.firstFailure ??= (e as Error).message;
      }
    }
  }

  await Promise.all(job.keys.map(client));
  agent.destroy();
  return result;
}

// Run as a child process: one job in, one result out.
if (process.send) {
  process.once('message', (job: ClientsJob) => {
    runClients(job).then(
      (result) => process.send!(result, () => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
