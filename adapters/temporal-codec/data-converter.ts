// The one DataConverter of the product: every Client and Worker (CLI, workers, the activities'
// client, end-to-end tests) is built with what this returns, so everything they send to
// Temporal is encrypted with the same keys and everything they read back is decrypted.
// The time-skipping workflow tests and captured replay histories stay plain on purpose.
import type { DataConverter } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import type { CodecConfig } from '../../config/schema';
import { EncryptionCodec } from './codec';
import { loadKeyring } from './keys';

/** For a workflow bundle built ahead of time: pass it to bundleWorkflowCode too. */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

export async function loadCodec(codec: CodecConfig, env: NodeJS.ProcessEnv = process.env): Promise<EncryptionCodec> {
  return new EncryptionCodec(await loadKeyring(codec, env));
}

export async function dataConverterFor(config: { temporal: { codec: CodecConfig } }, env: NodeJS.ProcessEnv = process.env): Promise<DataConverter> {
  return { payloadCodecs: [await loadCodec(config.temporal.codec, env)], failureConverterPath };
}
