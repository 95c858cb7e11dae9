// The codec server's token: what a caller must present to have payloads decrypted. From the
// variable temporal.codec.server.tokenEnv names when set (production injects it), else from
// tokenFile, created on first use. It may travel in a URL path (the Web UI can send no header),
// so it is held to URL-safe characters.
import type { CodecConfig } from '../../config/schema';
import { CodecKeyError } from './keys';
import { newHexSecret, readOrCreateSecretFile } from '../secrets/secret-file';

const URL_SAFE_TOKEN = /^[A-Za-z0-9._~-]{24,256}$/;

export async function loadCodecServerToken(server: CodecConfig['server'], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env[server.tokenEnv]?.trim();
  const [token, source] = fromEnv
    ? [fromEnv, `env ${server.tokenEnv}`]
    : [(await readOrCreateSecretFile(server.tokenFile, newHexSecret)).trim(), server.tokenFile];
  if (!URL_SAFE_TOKEN.test(token)) {
    throw new CodecKeyError(
      `the codec server token in ${source} must be 24 to 256 URL-safe characters (letters, digits, . _ ~ -); make one with \`openssl rand -hex 32\``,
    );
  }
  return token;
}
