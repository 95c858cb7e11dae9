// The bench's own PostgreSQL: Debian's server binaries (/usr/lib/postgresql/<newest>/bin), a
// data folder made by initdb in the bench's temp folder, another port, trust auth on loopback.
// PostgreSQL refuses to run as root, so as root it runs as the `postgres` account the package
// created (the account scripts/services/postgres.sh's Debian cluster runs as too).
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { Daemon, waitFor } from './daemon';

const SERVICE_ACCOUNT = 'postgres';

export class PrivatePostgres {
  readonly daemon: Daemon;
  readonly dataDir: string;
  readonly url: string;
  private readonly bin: string;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(
    private readonly dir: string,
    readonly port: number,
    readonly database = 'mlc_chaos',
  ) {
    this.bin = serverBinaries();
    this.dataDir = path.join(dir, 'pgdata');
    this.url = `postgres://postgres@127.0.0.1:${port}/${database}`;
    const server = [
      path.join(this.bin, 'postgres'),
      '-D',
      this.dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      // Durability against a crashed *machine* is not what is tested; a crashed server is.
      '-c',
      'fsync=off',
    ];
    this.daemon = new Daemon({ name: 'postgres', ...this.asAccount(server), logFile: path.join(dir, 'postgres.log') });
  }

  /** initdb, start, create the database. */
  async start(): Promise<void> {
    // Its own folder (data and socket), owned by the account it runs as.
    for (const folder of [this.dir, this.dataDir]) {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      if (this.asRoot) {
        const { uid, gid } = account(SERVICE_ACCOUNT);
        chownSync(folder, uid, gid);
      }
    }
    const initdb = this.asAccount([path.join(this.bin, 'initdb'), '-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    execFileSync(initdb.command, initdb.args, { stdio: 'pipe' });
    await this.resume();
    const admin = postgres(this.url.replace(/\/[^/]*$/, '/postgres'), { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database "${this.database}"`);
    } finally {
      await admin.end();
    }
  }

  /** Start on the existing data folder and wait until it accepts connections. */
  async resume(): Promise<void> {
    this.daemon.start();
    await waitFor(`the private PostgreSQL on port ${this.port}`, () => this.accepting(), 60_000, this.daemon);
  }

  /**
   * Stop the way a crash would (SIGQUIT: "immediate", no checkpoint, recovery on start), stay
   * down for downMs, start again; the ms it refused connections.
   */
  async restart(downMs: number): Promise<number> {
    const started = Date.now();
    await this.daemon.stop('SIGQUIT', 20_000);
    await new Promise((r) => setTimeout(r, downMs));
    await this.resume();
    return Date.now() - started;
  }

  stop(): Promise<void> {
    return this.daemon.stop('SIGINT', 20_000); // "fast" shutdown
  }

  private asAccount(argv: string[]): { command: string; args: string[] } {
    if (!this.asRoot) return { command: argv[0]!, args: argv.slice(1) };
    return { command: 'runuser', args: ['-u', SERVICE_ACCOUNT, '--', ...argv] };
  }

  private async accepting(): Promise<boolean> {
    // fetch_types off, as the registry's (adapters/db/open.ts): a probe cut while the server starts up
    // must fail the probe, not reject unhandled in the bench's process.
    const db = postgres(this.url.replace(/\/[^/]*$/, '/postgres'), { max: 1, connect_timeout: 2, onnotice: () => {}, fetch_types: false });
    try {
      await db`select 1`;
      return true;
    } finally {
      await db.end({ timeout: 1 });
    }
  }
}

/** The newest installed server's bin folder. */
function serverBinaries(): string {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  } catch {
    // handled below
  }
  if (!versions[0]) throw new Error(`no PostgreSQL server under ${root}: apt-get install postgresql (or scripts/setup.sh)`);
  return path.join(root, versions[0], 'bin');
}

function account(name: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
