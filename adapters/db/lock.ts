// An exclusive lock on the embedded registry folder.
//
// Why: PGlite is Postgres compiled to WebAssembly running inside one Node process, with no
// server and no shared-memory coordination. Two processes (say the worker, the CLI and the
// local endpoint) opening the same folder at once corrupt it or fail in obscure ways. So the
// first opener writes `.lock` holding its pid and host; a second live opener is refused with
// RegistryLockedError, which tells the user to use PostgreSQL (DATABASE_URL) for multi-process
// setups. A lock whose pid is dead on this host is stale (a crash) and is taken over.
import { hostname } from 'node:os';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { RegistryLockedError } from './errors';

interface LockOwner {
  pid: number;
  hostname: string;
}

// Locks this process holds. A lock file naming our own pid that is not in this set was left
// by an earlier process that had the same pid (common in containers, where it is often 1).
const heldByThisProcess = new Set<string>();

export interface FolderLock {
  readonly path: string;
  release(): Promise<void>;
}

export async function acquireFolderLock(lockPath: string): Promise<FolderLock> {
  const me: LockOwner = { pid: process.pid, hostname: hostname() };
  for (let tries = 0; tries < 3; tries++) {
    if (await tryCreate(lockPath, me)) {
      heldByThisProcess.add(lockPath);
      return { path: lockPath, release: () => release(lockPath) };
    }
    const owner = await readOwner(lockPath);
    if (owner === undefined) continue; // released between our attempt and the read: retry
    if (owner !== null && isLive(owner, lockPath)) {
      throw new RegistryLockedError(lockPath, owner.pid, owner.hostname);
    }
    // Stale or unreadable: remove it and retry. Two processes racing on the same stale lock
    // is possible in theory (both unlink, one may remove the other's fresh lock); opening the
    // registry is a human-paced event, and the link() below still admits one at a time.
    await unlink(lockPath).catch(ignoreMissing);
  }
  throw new Error(`could not take the registry lock ${lockPath} after 3 tries`);
}

// Write the whole file under a unique name, then link() it into place: link fails if the lock
// exists, so the lock appears atomically and a reader never sees it half-written.
async function tryCreate(lockPath: string, me: LockOwner): Promise<boolean> {
  const temp = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, JSON.stringify(me) + '\n', { mode: 0o644 });
  try {
    await link(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(ignoreMissing);
  }
}

/** The owner, null if the file is unreadable garbage, undefined if it no longer exists. */
async function readOwner(lockPath: string): Promise<LockOwner | null | undefined> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string') {
      return { pid: parsed.pid, hostname: parsed.hostname };
    }
  } catch {
    // fall through: garbage
  }
  return null;
}

function isLive(owner: LockOwner, lockPath: string): boolean {
  // We cannot see another host's processes (a data dir on NFS): assume it is alive.
  if (owner.hostname !== hostname()) return true;
  if (owner.pid === process.pid) return heldByThisProcess.has(lockPath);
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function release(lockPath: string): Promise<void> {
  if (!heldByThisProcess.delete(lockPath)) return;
  const owner = await readOwner(lockPath);
  // Only remove a lock that is still ours (someone may have broken it as stale meanwhile).
  if (owner && owner.pid === process.pid && owner.hostname === hostname()) {
    await unlink(lockPath).catch(ignoreMissing);
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
