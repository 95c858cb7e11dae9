// A throwaway certificate for 127.0.0.1, made at start with openssl. The SDK's bearer-token
// policy refuses plain http, so the ARM front must be https; clients trust this one
// certificate (it is its own CA) through `tlsOptions: { ca }`, nothing machine-wide.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface SelfSignedCert {
  key: string;
  cert: string;
}

export async function selfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), 'mlc-aml-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '7',
      '-keyout',
      key,
      '-out',
      cert,
    ]).catch((err: Error & { stderr?: string }) => {
      throw new Error(`openssl could not make the emulator's TLS certificate (is openssl on PATH?): ${err.stderr || err.message}`, { cause: err });
    });
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
