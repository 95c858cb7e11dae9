// Opening the registry: PostgreSQL when DATABASE_URL is given, else embedded PGlite under the
// data folder. Both get the same migrations and the same DrizzleRegistry; only this file knows
// which dialect driver is underneath. Drivers load lazily so one never pays for the other.
//
// Multi-process use: PGlite runs inside one process, so the embedded registry is locked to
// the process that opened it (see lock.ts). The worker, the CLI and the local endpoint can
// share a registry only through PostgreSQL; a second opener of the same PGlite folder gets a
// RegistryLockedError that says so.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { Sql } from 'postgres';
import type { Registry } from './port';
import type { ExecuteSql } from './prediction-insert';
import { DrizzleRegistry, type RegistryDb } from './registry';
import { acquireFolderLock } from './lock';
import { RegistryConnectionError, RegistryOpenError, errorCode, redactUrl } from './errors';

export interface OpenRegistryOptions {
  /** postgres://user:password@host:port/db; when absent the embedded PGlite registry is used. */
  databaseUrl?: string;
  /** The data folder (e.g. .data); PGlite lives in `${dataDir}/registry`. */
  dataDir: string;
}

// Resolved from this file, not the cwd, so the CLI works from any folder.
const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

// Any fixed 64-bit number; it names the "migrating the registry" lock among advisory locks.
const MIGRATION_LOCK_ID = 7_310_462_001;

export async function openRegistry(options: OpenRegistryOptions): Promise<Registry> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openPglite(join(options.dataDir, 'registry'));
}

async function openPostgres(url: string): Promise<Registry> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const where = redactUrl(url);
  // fetch_types off: postgres.js 3.4.9 runs its array-type query on every new connection and drops
  // that promise, so a connection cut while it runs (a PostgreSQL restart) rejects with nothing
  // listening and the unhandled rejection stops the Temporal worker (porsager/postgres#1192,
  // #1223). The registry reads its one array column as JSON instead (prediction-window.ts).
  //
  // backoff: a connection closed by an error waits before it reconnects, and postgres.js grows
  // that wait with every error across the pool (3^n / 100 s, up to 20 s). A restart of a few
  // seconds makes every connection fail several times, so calls queued on them waited up to 20 s
  // after the server was back. Here: 0.1 s doubling, at most 2 s, with jitter.
  const clientOptions = { connect_timeout: 10, onnotice: () => {}, fetch_types: false, backoff: reconnectDelaySeconds };

  // Migrate on one dedicated connection holding a session advisory lock, so workers that
  // start together do not race to create the same tables.
  const admin = postgres(url, { ...clientOptions, max: 1 });
  try {
    try {
      await admin`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    } catch (error) {
      throw new RegistryConnectionError(where, errorCode(error), { cause: error });
    }
    try {
      await migrate(drizzle({ client: admin }), { migrationsFolder });
    } catch (error) {
      throw new RegistryOpenError(where, 'migrate', { cause: error });
    }
  } finally {
    await admin.end({ timeout: 5 }).catch(() => {}); // ending the session releases the lock
  }

  const client = postgres(url, clientOptions);
  const db: RegistryDb = drizzle({ client });
  return new DrizzleRegistry(db, () => client.end({ timeout: 5 }), postgresExecutor(client));
}

async function openPglite(dir: string): Promise<Registry> {
  await mkdir(dir, { recursive: true });
  const lock = await acquireFolderLock(join(dir, '.lock'));
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    let client: InstanceType<typeof PGlite>;
    try {
      client = await PGlite.create(dir);
    } catch (error) {
      throw new RegistryOpenError(dir, 'start', { cause: error });
    }
    const pg = drizzle({ client });
    try {
      await migrate(pg, { migrationsFolder });
    } catch (error) {
      await client.close().catch(() => {});
      throw new RegistryOpenError(dir, 'migrate', { cause: error });
    }
    const db: RegistryDb = pg;
    return new DrizzleRegistry(
      db,
      async () => {
        try {
          await client.close();
        } finally {
          await lock.release();
        }
      },
      pgliteExecutor(client),
    );
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** postgres.js's `backoff`: seconds before a connection closed by an error reconnects. */
export function reconnectDelaySeconds(errorsInARow: number): number {
  return Math.min(0.1 * 2 ** errorsInARow, 2) * (0.5 + Math.random() / 2);
}

/** Raw statements on postgres-js: one alone, several in one transaction. */
function postgresExecutor(client: Sql): ExecuteSql {
  return async (statements) => {
    if (statements.length === 1) await client.unsafe(statements[0]!.text, statements[0]!.params as never[]);
    else await client.begin(async (tx) => void (await Promise.all(statements.map((s) => tx.unsafe(s.text, s.params as never[])))));
  };
}

/** Raw statements on PGlite: one alone, several in one transaction. */
export function pgliteExecutor(client: PGlite): ExecuteSql {
  return async (statements) => {
    if (statements.length === 1) await client.query(statements[0]!.text, statements[0]!.params);
    else
      await client.transaction(async (tx) => {
        for (const s of statements) await tx.query(s.text, s.params);
      });
  };
}
