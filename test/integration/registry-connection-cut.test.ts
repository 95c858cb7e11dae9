// A PostgreSQL restart cuts every connection, and the pool's first new connection can be cut
// again while it starts up. The registry must turn that into a failed call (the activity retries
// it), never an unhandled rejection: in a worker one stops the Temporal worker, and the chaos
// run saw the control worker exit after a restart during deploy. A TCP proxy in front of the real
// server answers one new connection's first statement with the ErrorResponse a shutdown sends
// (57P01) and closes it, as in porsager/postgres#1223.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { openRegistry } from '../../adapters/db/open';
import type { Registry } from '../../adapters/db/port';

const pgUrl = new URL(process.env.MLC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mlc_test');
// A database of its own: the registry suite drops its tables while it runs.
const database = 'mlc_test_connection_cut';

/** What a server shutting down sends before it closes the socket. */
function adminShutdown(): Buffer {
  const fields = Buffer.from('SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0');
  const head = Buffer.alloc(5);
  head.write('E');
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

class CuttingProxy {
  private readonly sockets = new Set<Socket>();
  /** The next new connection is cut on its first statement after the startup handshake. */
  cutNextConnection = false;
  cuts = 0;
  readonly server: Server = createServer((client) => {
    const cut = this.cutNextConnection;
    this.cutNextConnection = false;
    const upstream = connect(Number(pgUrl.port || 5432), pgUrl.hostname);
    let ready = false;
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => this.sockets.delete(s));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.on('data', (bytes) => {
      // ReadyForQuery ('Z', length 5): the handshake is over.
      if (bytes.includes(Buffer.from('Z\0\0\0\x05'))) ready = true;
      client.write(bytes);
    });
    client.on('data', (bytes) => {
      if (cut && ready) {
        this.cuts++;
        client.end(adminShutdown());
        upstream.destroy();
        return;
      }
      upstream.write(bytes);
    });
  });

  /** As a restart does: every open connection goes. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}

let proxy: CuttingProxy;
let registry: Registry;

beforeAll(async () => {
  const maintenance = new URL(pgUrl);
  maintenance.pathname = '/postgres';
  const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => {} });
  try {
    const found = await admin`select 1 from pg_database where datname = ${database}`;
    if (found.length === 0) await admin.unsafe(`create database ${database}`);
  } finally {
    await admin.end();
  }
  proxy = new CuttingProxy();
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
  const port = (proxy.server.address() as { port: number }).port;
  registry = await openRegistry({ databaseUrl: `postgres://${pgUrl.username}@127.0.0.1:${port}/${database}`, dataDir: '' });
});
afterAll(async () => {
  await registry?.close();
  proxy?.dropAll();
  proxy?.server.close();
});

describe('the PostgreSQL registry when connections are cut', () => {
  it('fails the call in flight, rejects nothing unhandled, and serves the next one', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await registry.deployedModels();
      for (let round = 0; round < 3; round++) {
        proxy.dropAll();
        // Let the driver see its sockets close, so the next call opens the connection that is cut.
        await new Promise((r) => setTimeout(r, 100));
        proxy.cutNextConnection = true;
        // This call may fail (its connection was cut): what matters is that it settles.
        await registry.deployedModels().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
        expect(await registry.deployedModels()).toEqual(expect.any(Array));
      }
      expect(proxy.cuts).toBe(3);
      expect(unhandled.map((r) => (r as Error).message)).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
