// An in-memory registry (PGlite without a folder) with every migration applied: the real
// schema and queries for unit tests of code that reads or writes the registry, and nothing on
// disk to clean up or lock.
import { fileURLToPath } from 'node:url';
import type { Registry } from './port';
import { DrizzleRegistry, type RegistryDb } from './registry';
import { pgliteExecutor } from './open';

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export async function openMemoryRegistry(): Promise<Registry> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const client = await PGlite.create();
  const pg = drizzle({ client });
  await migrate(pg, { migrationsFolder });
  const db: RegistryDb = pg;
  return new DrizzleRegistry(db, () => client.close(), pgliteExecutor(client));
}
