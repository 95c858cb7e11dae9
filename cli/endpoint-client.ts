// A client for the built-in endpoint: its address from config and its bearer key from the
// secrets folder, resolved once per client.
import { loadEndpointKey } from '../adapters/endpoint/secret';
import { rootCauseMessage } from '../domain/errors';
import { loadConfig } from '../temporal.config';
import { CliError } from './cli-error';

export interface EndpointClient {
  base: string;
  post<T>(route: string, body: unknown): Promise<T>;
}

export async function endpointClient(endpoint?: string): Promise<EndpointClient> {
  const config = loadConfig();
  const base = endpoint ?? `http://${config.endpoint.host}:${config.endpoint.port}`;
  const key = await loadEndpointKey(config.paths.secrets, process.env);
  return {
    base,
    async post<T>(route: string, body: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${base}${route}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      } catch (err) {
        throw new CliError(`Cannot reach the endpoint at ${base} (${rootCauseMessage(err)}). It runs inside the worker: npm run worker.`);
      }
      const payload = (await res.json().catch(() => ({}))) as { error?: string };
      if (!res.ok) throw new CliError(`endpoint answered ${res.status}: ${payload.error ?? JSON.stringify(payload)}`);
      return payload as T;
    },
  };
}
