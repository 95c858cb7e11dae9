// A client for the built-in endpoint: its address from config and its bearer key from the
// secrets folder, resolved once per client. A request the endpoint sheds (503 under load, 429
// over a key's rate) is sent again after the Retry-After it names, a few times, as a well-behaved
// client does: the endpoint did nothing with it, so sending it again is safe.
import { loadEndpointKey } from '../adapters/endpoint/secret';
import { rootCauseMessage } from '../domain/errors';
import { loadConfig } from '../temporal.config';
import { CliError } from './cli-error';

export interface EndpointClient {
  base: string;
  post<T>(route: string, body: unknown): Promise<T>;
  /** GET a text route behind the key (/metrics). */
  getText(route: string): Promise<string>;
}

export async function endpointClient(endpoint?: string): Promise<EndpointClient> {
  const config = loadConfig();
  const base = endpoint ?? `http://${config.endpoint.host}:${config.endpoint.port}`;
  const key = await loadEndpointKey(config.paths.secrets, process.env);
  return {
    base,
    post: (route, body) => postShed(base, route, key, body),
    async getText(route) {
      const res = await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${key}` } }).catch((err: unknown) => {
        throw unreachable(base, err);
      });
      if (!res.ok) throw new CliError(answered(res.status, (await res.json().catch(() => ({}))) as { error?: string }));
      return res.text();
    },
  };
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The longest wait honoured, whatever Retry-After says. */
  maxWaitSeconds: number;
  /** Where the client says it is waiting. */
  say: (line: string) => void;
}

const defaultPolicy: RetryPolicy = { attempts: 4, maxWaitSeconds: 30, say: (line) => console.error(line) };

/** POSTs `body`; a shed request (503, 429) is retried after its Retry-After, up to `policy.attempts` in all. */
export async function postShed<T>(base: string, route: string, key: string, body: unknown, policy: RetryPolicy = defaultPolicy): Promise<T> {
  const request = { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) };
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${base}${route}`, request);
    } catch (err) {
      throw unreachable(base, err);
    }
    const payload = (await res.json().catch(() => ({}))) as { error?: string };
    if (res.ok) return payload as T;
    const why = answered(res.status, payload);
    const shed = res.status === 503 || res.status === 429;
    if (!shed) throw new CliError(why);
    if (attempt >= policy.attempts) throw new CliError(`${why} (gave up after ${attempt} attempts)`);
    const wait = Math.min(policy.maxWaitSeconds, retryAfterSeconds(res.headers.get('retry-after')));
    policy.say(`${why}; sending it again in ${wait} s (attempt ${attempt + 1} of ${policy.attempts})`);
    await new Promise((r) => setTimeout(r, wait * 1000));
  }
}

/** The endpoint's refusal in its own words (its JSON error names the fix, e.g. where the key comes from). */
const answered = (status: number, payload: { error?: string }) => `endpoint answered ${status}: ${payload.error ?? JSON.stringify(payload)}`;

const unreachable = (base: string, err: unknown) =>
  new CliError(`Cannot reach the endpoint at ${base} (${rootCauseMessage(err)}). It runs inside the worker: npm run worker.`);

/** Retry-After in seconds (the endpoint sends seconds; an HTTP date is honoured too); 1 s when absent or unreadable. */
function retryAfterSeconds(header: string | null): number {
  if (header === null) return 1;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1 : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
