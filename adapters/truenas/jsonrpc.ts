// TrueNAS's API: JSON-RPC 2.0 over a WebSocket at wss://<host>/api/current (the REST v2.0 API
// is gone in TrueNAS 26). TLS only: TrueNAS revokes an API key that was ever sent over plain
// HTTP, so a ws:// or http:// address is refused before anything is sent.
import WebSocket from 'ws';

export class TrueNasError extends Error {
  override name = 'TrueNasError';
  constructor(
    message: string,
    /** ZFS/middleware error name (EEXIST, ENOENT, EACCES, …) when TrueNAS gave one. */
    readonly errname: string | null = null,
    /** Retrying cannot fix it (bad key, unknown dataset, refused scheme). */
    readonly nonRetryable = false,
  ) {
    super(message);
  }
}

interface RpcError {
  code: number;
  message: string | null;
  data?: { errname?: string; reason?: string };
}

export interface JsonRpcClient {
  call<T>(method: string, params: unknown[]): Promise<T>;
  close(): Promise<void>;
}

export async function connectTrueNas(url: string, options: { ca?: string; timeoutMs?: number } = {}): Promise<JsonRpcClient> {
  if (!url.startsWith('wss://')) {
    throw new TrueNasError(`refusing ${url}: TrueNAS API keys may only travel over TLS (wss://host/api/current); a key sent in clear is revoked`, null, true);
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const socket = new WebSocket(url, { ...(options.ca ? { ca: options.ca } : {}), handshakeTimeout: timeoutMs });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', (e) => reject(new TrueNasError(`cannot reach TrueNAS at ${url}: ${e.message}`)));
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const failAll = (error: Error) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    pending.clear();
  };
  socket.on('message', (data: WebSocket.RawData) => {
    let reply: { id?: number; result?: unknown; error?: RpcError };
    try {
      reply = JSON.parse(rawText(data)) as typeof reply;
    } catch {
      return;
    }
    const waiting = reply.id === undefined ? undefined : pending.get(reply.id);
    if (!waiting) return; // notifications (events) are not ours
    pending.delete(reply.id!);
    clearTimeout(waiting.timer);
    if (!reply.error) return waiting.resolve(reply.result);
    const { code, message, data: d } = reply.error;
    const errname = d?.errname ?? null;
    const permanent = errname === 'ENOENT' || errname === 'EINVAL' || errname === 'EACCES' || code === -32601 || code === -32602;
    waiting.reject(new TrueNasError(`TrueNAS: ${d?.reason ?? message ?? 'error'} (code ${code}${errname ? `, ${errname}` : ''})`, errname, permanent));
  });
  socket.on('close', () => failAll(new TrueNasError(`the TrueNAS connection to ${url} closed`)));
  return {
    call<T>(method: string, params: unknown[]) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new TrueNasError(`TrueNAS did not answer ${method} within ${timeoutMs / 1000}s`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      });
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
      });
    },
  };
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(new Uint8Array(data)).toString('utf8');
}
