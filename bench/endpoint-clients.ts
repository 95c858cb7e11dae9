// The clients of bench/endpoint.ts, in a process of their own so that their work does not run on
// the endpoint's event loop: N closed-loop clients, each with its own API key and keep-alive
// connection, each sending one text per /score request until the time is up. Started by
// bench/endpoint.ts with a ClientsJob over IPC; answers with a ClientsResult, which says how
// much CPU the clients themselves used: on a 2-core machine they take a large share of it.
//
// Two kinds of client: "node" (node:http's Agent, what a Node service calling the endpoint
// would use) and "raw" (prebuilt request bytes over a plain socket, a minimal HTTP/1.1 reader:
// what a load generator such as wrk does, so that less of the machine goes to making load).
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { ClientsMessage } from './endpoint-measure';

export type ClientKind = 'node' | 'raw';

export interface ClientsJob {
  url: string;
  model: string;
  /** One key per client. */
  keys: string[];
  texts: string[];
  warmupMs: number;
  measureMs: number;
  kind: ClientKind;
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
  /** CPU the clients' process used inside the measured window, in cores (1 = one core busy). */
  cpuCores: number;
}

type Post = (body: string) => Promise<{ status: number; body: string }>;

function nodeClient(agent: Agent, url: URL, key: string): Post {
  return (body) =>
    new Promise((resolve, reject) => {
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

/**
 * One keep-alive socket, one request at a time. The reader knows only what fastify sends to
 * these requests: a status line, headers with content-length, and that many bytes of body.
 */
function rawClient(url: URL, key: string): Post {
  const head = `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\n`;
  let socket: Socket | null = null;
  let pending: { resolve: (r: { status: number; body: string }) => void; reject: (e: Error) => void } | null = null;
  let buffer: Buffer = Buffer.alloc(0);

  const onData = (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0 || !pending) return;
    const headers = buffer.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? NaN);
    if (!Number.isFinite(length)) return fail(new Error(`no content-length in the answer: ${headers.slice(0, 200)}`));
    if (buffer.length < end + 4 + length) return;
    const body = buffer.toString('utf8', end + 4, end + 4 + length);
    buffer = buffer.subarray(end + 4 + length);
    const done = pending;
    pending = null;
    done.resolve({ status: Number(headers.slice(9, 12)), body });
  };
  const fail = (error: Error) => {
    socket?.destroy();
    socket = null;
    buffer = Buffer.alloc(0);
    const p = pending;
    pending = null;
    p?.reject(error);
  };
  const open = () => {
    const s = connect(Number(url.port), url.hostname);
    s.setNoDelay(true);
    s.on('data', onData);
    s.on('error', fail);
    s.on('close', () => socket === s && fail(new Error('the endpoint closed the connection')));
    return s;
  };
  return (body) =>
    new Promise((resolve, reject) => {
      pending = { resolve, reject };
      socket ??= open();
      socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
}

/** `onMeasuring`: called as the measured window begins, so the endpoint's side can time it too. */
export async function runClients(job: ClientsJob, onMeasuring: () => void = () => {}): Promise<ClientsResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.keys.length });
  const url = new URL('/score', job.url);
  const start = performance.now();
  const measureFrom = start + job.warmupMs;
  const stopAt = measureFrom + job.measureMs;
  const result: ClientsResult = { latencies: [], statuses: {}, answeredTexts: 0, failed: 0, cpuCores: NaN };
  let cpuFrom: NodeJS.CpuUsage | null = null;
  const cpuStart = setTimeout(() => {
    cpuFrom = process.cpuUsage();
    onMeasuring();
  }, job.warmupMs);
  let next = 0;

  async function client(key: string): Promise<void> {
    const post = job.kind === 'raw' ? rawClient(url, key) : nodeClient(agent, url, key);
    while (performance.now() < stopAt) {
      const text = job.texts[next++ % job.texts.length]!;
      const sent = performance.now();
      try {
        const res = await post(JSON.stringify({ model: job.model, texts: [text] }));
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
  clearTimeout(cpuStart);
  if (cpuFrom) {
    const used = process.cpuUsage(cpuFrom);
    result.cpuCores = (used.user + used.system) / 1000 / (performance.now() - measureFrom);
  }
  agent.destroy();
  return result;
}

// Run as a child process: one job in, one result out.
if (process.send) {
  process.once('message', (job: ClientsJob) => {
    runClients(job, () => process.send!({ phase: 'measuring' } satisfies ClientsMessage)).then(
      (result) => process.send!({ phase: 'done', result } satisfies ClientsMessage, () => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
