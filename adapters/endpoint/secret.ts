// The local endpoint's API key: MLC_ENDPOINT_KEY when set (production injects it), else a key
// kept in the secrets folder, created on first use, readable by this user only.
import { join } from 'node:path';
import { newHexSecret, readOrCreateSecretFile } from '../secrets/secret-file';

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

/** Returns the key; creates `${secretsDir}/endpoint.key` (32 random bytes as hex, mode 0600) if neither exists. */
export async function loadEndpointKey(secretsDir: string, env: Record<string, string | undefined> = process.env): Promise<string> {
  const fromEnv = env.MLC_ENDPOINT_KEY?.trim();
  if (fromEnv) return fromEnv;

  const path = join(secretsDir, ENDPOINT_KEY_FILE);
  let text: string;
  try {
    // Created whole or not at all: the worker, the endpoint and the CLI may all start at once on a
    // fresh machine, and every one of them must end up with the key that won.
    text = await readOrCreateSecretFile(path, newHexSecret);
  } catch (cause) {
    throw new EndpointKeyError(`${(cause as Error).message}, or set MLC_ENDPOINT_KEY`, path, { cause });
  }
  const key = text.trim();
  if (!key) throw new EndpointKeyError(`${path} is empty; delete it to have a new key created, or set MLC_ENDPOINT_KEY`, path);
  return key;
}
