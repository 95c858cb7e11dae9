// Starting a worker thread on a module of this code base, whether it runs from .ts files under
// tsx (development, tests, the demo) or from compiled .js.
import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';

/** `path` (no extension) beside the module at `base` (its import.meta.url), with that module's own extension. */
export function moduleBeside(base: string, path: string): URL {
  return new URL(`${path}${extname(new URL(base).pathname)}`, base);
}

/**
 * Node 20 cannot start a worker thread from a .ts file, and a worker does not inherit tsx's
 * hooks for its entry; tsx's tsImport loads it with hooks scoped to that import. Compiled .js
 * starts directly.
 */
export function startThread(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const href = JSON.stringify(entry.href);
  // An eval'd worker resolves bare specifiers from the working folder: every path is absolute.
  const boot = `import(${tsx}).then(({ tsImport }) => tsImport(${href}, ${href}))`;
  return new Worker(boot, { eval: true, workerData });
}
