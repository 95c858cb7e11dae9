// Files in the secrets folder (the codec's keys and server token, the endpoint key, the worker's
// signing key): readable by this user only, and created whole or not at all, because several
// processes (three worker roles, the codec server, the CLI) may all find a file missing at the
// same moment on a fresh machine.
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class SecretFileError extends Error {
  override name = 'SecretFileError';
  readonly nonRetryable = true;
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The file's text, or null when it does not exist; refuses a file other users can read. */
export async function readSecretFile(file: string): Promise<string | null> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SecretFileError(`cannot read ${file}: ${(cause as Error).message}`, file, { cause });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new SecretFileError(`${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``, file);
  }
  return readFile(file, 'utf8');
}

/**
 * Creates `file` (mode 0600, its folder 0700) holding `text`, unless it exists; returns what the
 * file holds afterwards: `text`, or what another process created first.
 */
export async function createSecretFile(file: string, text: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written aside, then linked into place: link() fails if the name exists, so the file appears
  // with its whole content or not at all, and a racing process never reads it half-written.
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(aside, text, { flag: 'wx', mode: 0o600 });
    await chmod(aside, 0o600); // the umask may narrow the mode, never widen it; be exact
    await link(aside, file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw new SecretFileError(`cannot create ${file}: ${(cause as Error).message}`, file, { cause });
  } finally {
    await unlink(aside).catch(() => undefined);
  }
  const now = await readSecretFile(file);
  if (now === null) throw new SecretFileError(`${file} vanished right after it was created`, file);
  return now;
}

/**
 * The file's text; when it does not exist, creates it from `make()` (called only then) as
 * createSecretFile does, and returns what won if another process created it first.
 */
export async function readOrCreateSecretFile(file: string, make: () => string): Promise<string> {
  return (await readSecretFile(file)) ?? (await createSecretFile(file, make()));
}

/** 32 random bytes as hex and a newline: the text of a new token or API key file. */
export function newHexSecret(): string {
  return `${randomBytes(32).toString('hex')}\n`;
}
