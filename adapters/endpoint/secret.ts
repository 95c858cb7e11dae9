// The local endpoint's API key: MLC_ENDPOINT_KEY when set (production injects it), else a key
// kept in the secrets folder, created on first use, readable by this user only.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class EndpointKeyError extends Error {
  override name = 'EndpointKeyError';
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const ENDPOINT_KEY_FILE = 'endpoint.key';

/** Returns the key; writes `${secretsDir}/endpoint.key` (32 random bytes as hex, mode 0600) if neither exists. */
export async function loadEndpointKey(secretsDir: string, env: Record<string, string | undefined> = process.env): Promise<string> {
  const fromEnv = env.MLC_ENDPOINT_KEY?.trim();
  if (fromEnv) return fromEnv;

  const path = join(secretsDir, ENDPOINT_KEY_FILE);
  await mkdir(secretsDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': fails if the file exists, so two processes starting at once never overwrite each other's key.
    await writeFile(path, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    await chmod(path, 0o600); // the umask may have narrowed it further, never widened; be exact
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw new EndpointKeyError(`cannot create ${path}: ${(cause as Error).message}`, path, { cause });
  }

  const info = await stat(path);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new EndpointKeyError(
      `${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${path}\` or set MLC_ENDPOINT_KEY`,
      path,
    );
  }
  const key = (await readFile(path, 'utf8')).trim();
  if (!key) throw new EndpointKeyError(`${path} is empty; delete it to have a new key created, or set MLC_ENDPOINT_KEY`, path);
  return key;
}
