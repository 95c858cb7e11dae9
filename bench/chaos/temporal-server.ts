// The bench's own Temporal dev server: the same binary and search attributes as
// scripts/services/temporal.sh, on a port of its own, with its SQLite file in the bench's temp
// folder, so restarting it mid-lifecycle (same database file) disturbs nobody else's tests.
import { Connection } from '@temporalio/client';
import path from 'node:path';
import { repoRoot, searchAttributes } from '../../temporal.config';
import { Daemon, waitFor } from './daemon';

export class PrivateTemporal {
  readonly daemon: Daemon;
  readonly address: string;
  readonly dbFile: string;

  constructor(
    dir: string,
    readonly port: number,
  ) {
    this.address = `127.0.0.1:${port}`;
    this.dbFile = path.join(dir, 'temporal.db');
    this.daemon = new Daemon({
      name: 'temporal',
      command: path.join(repoRoot, '.venv/bin/temporal'),
      args: [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--headless',
        '--db-filename',
        this.dbFile,
        '--namespace',
        'default',
        // The attributes the lifecycle upserts (temporal.sh registers the same ones).
        ...Object.values(searchAttributes).flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
        '--log-level',
        'warn',
      ],
      logFile: path.join(dir, 'temporal.log'),
    });
  }

  /** Start, and return once the namespace answers and knows our search attributes. */
  async start(timeoutMs = 90_000): Promise<void> {
    this.daemon.start();
    await waitFor(`the private Temporal dev server on ${this.address} to answer`, () => this.ready(), timeoutMs, this.daemon);
  }

  /** SIGTERM and start again on the same database file; the ms it was unavailable. */
  async restart(): Promise<number> {
    const started = Date.now();
    await this.daemon.stop('SIGTERM', 20_000);
    await this.start();
    return Date.now() - started;
  }

  stop(): Promise<void> {
    return this.daemon.stop('SIGTERM', 10_000);
  }

  private async ready(): Promise<boolean> {
    const connection = await Connection.connect({ address: this.address, connectTimeout: 2_000 });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      return Object.values(searchAttributes).every((name) => name in (customAttributes ?? {}));
    } finally {
      await connection.close();
    }
  }
}
