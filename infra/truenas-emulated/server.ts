// A stand-in for a TrueNAS box's API, for tests: JSON-RPC 2.0 over a TLS WebSocket at
// /api/current, implementing the three methods the product calls with their parameter
// schemas and the errors TrueNAS gives (unauthenticated calls, unknown datasets, existing
// snapshots, unknown methods, invalid params). Not a NAS: no ZFS underneath, only its rules.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import { selfSignedCert } from '../azure-emulated/contract-server/tls';

const createParams = z.tuple([
  z.strictObject({
    dataset: z.string().min(1),
    name: z.string().min(1).optional(),
    naming_schema: z.string().min(1).optional(),
    recursive: z.boolean().optional(),
    exclude: z.array(z.string()).optional(),
    vmware_sync: z.boolean().optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
  }),
]);
const holdParams = z.union([z.tuple([z.string().min(1)]), z.tuple([z.string().min(1), z.strictObject({ recursive: z.boolean().optional() })])]);
const loginParams = z.union([z.tuple([z.string()]), z.tuple([z.string(), z.string().optional()])]);

export interface EmulatedTrueNas {
  url: string;
  /** PEM of its self-signed certificate, to trust as the CA. */
  ca: string;
  snapshots: Map<string, { holds: number }>;
  calls: { method: string; authenticated: boolean }[];
  close(): Promise<void>;
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly errname?: string,
  ) {
    super(message);
  }
}

export async function startEmulatedTrueNas(options: { apiKey: string; datasets: string[] }): Promise<EmulatedTrueNas> {
  const { key, cert } = await selfSignedCert();
  const server = createServer({ key, cert });
  const wss = new WebSocketServer({ server, path: '/api/current' });
  const snapshots = new Map<string, { holds: number }>();
  const calls: EmulatedTrueNas['calls'] = [];

  wss.on('connection', (socket) => {
    let authenticated = false;
    const methods: Record<string, (params: unknown) => unknown> = {
      'auth.login_with_api_key': (params) => {
        const [apiKey] = parse(loginParams, params);
        authenticated = apiKey === options.apiKey;
        return authenticated;
      },
      'pool.snapshot.create': (params) => {
        const [data] = parse(createParams, params);
        if (!data.name && !data.naming_schema) throw new RpcFailure(-32602, 'Invalid params: give name or naming_schema');
        if (!options.datasets.includes(data.dataset)) throw new RpcFailure(-32001, `[ENOENT] dataset ${data.dataset} does not exist`, 'ENOENT');
        const id = `${data.dataset}@${data.name}`;
        if (snapshots.has(id)) throw new RpcFailure(-32001, `[EEXIST] snapshot ${id} already exists`, 'EEXIST');
        snapshots.set(id, { holds: 0 });
        return { id, name: id, dataset: data.dataset, snapshot_name: data.name, pool: data.dataset.split('/')[0] };
      },
      'pool.snapshot.hold': (params) => {
        const [id] = parse(holdParams, params);
        const snapshot = snapshots.get(id);
        if (!snapshot) throw new RpcFailure(-32001, `[ENOENT] snapshot ${id} not found`, 'ENOENT');
        snapshot.holds = 1; // the "truenas" tag: holding twice is one hold
        return null;
      },
    };
    socket.on('message', (raw) => {
      let request: { jsonrpc?: string; id?: number | string; method?: string; params?: unknown };
      try {
        request = JSON.parse(Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw as Buffer).toString('utf8')) as typeof request;
      } catch {
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
        return;
      }
      const { id, method } = request;
      calls.push({ method: String(method), authenticated });
      try {
        if (request.jsonrpc !== '2.0' || typeof method !== 'string' || !Array.isArray(request.params)) throw new RpcFailure(-32600, 'Invalid Request');
        const handler = methods[method];
        if (!handler) throw new RpcFailure(-32601, 'Method not found');
        if (method !== 'auth.login_with_api_key' && !authenticated) throw new RpcFailure(-32001, 'Not authenticated', 'EACCES');
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, result: handler(request.params) }));
      } catch (e) {
        const f = e instanceof RpcFailure ? e : new RpcFailure(-32001, String(e));
        socket.send(
          JSON.stringify({
            jsonrpc: '2.0',
            id,
            error: { code: f.code, message: f.message, data: f.errname ? { errname: f.errname, reason: f.message } : { reason: f.message } },
          }),
        );
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `wss://127.0.0.1:${port}/api/current`,
    ca: cert,
    snapshots,
    calls,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parse<T>(schema: z.ZodType<T>, params: unknown): T {
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw new RpcFailure(-32602, `Invalid params: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
