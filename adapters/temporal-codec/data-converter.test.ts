// The converter as the SDK loads it in a Client (the same loading a Worker does): the codec
// encrypts payloads, and failure messages leave as an encoded attribute the codec then encrypts.
import { ApplicationFailure, Client, Connection, defaultPayloadConverter } from '@temporalio/client';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EncryptionCodec } from './codec';
import { dataConverterFor } from './data-converter';

async function codecConfig() {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlc-dc-'));
  return {
    temporal: {
      codec: {
        keyFiles: [path.join(dir, 'codec-keys')],
        keysEnv: 'TEST_CODEC_KEYS',
        server: { host: '127.0.0.1', port: 0, tokenFile: path.join(dir, 'token'), tokenEnv: 'TEST_CODEC_TOKEN' },
      },
    },
  };
}

describe('dataConverterFor', () => {
  it('a Client built with it encrypts payloads and moves failure messages into encrypted attributes', async () => {
    const dataConverter = await dataConverterFor(await codecConfig(), {});
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), dataConverter });
    const { payloadCodecs, failureConverter, payloadConverter } = client.options.loadedDataConverter;
    expect(payloadCodecs).toHaveLength(1);
    expect(payloadCodecs[0]).toBeInstanceOf(EncryptionCodec);

    const failure = failureConverter.errorToFailure(ApplicationFailure.nonRetryable('cannot read /srv/corpora/secret.jsonl'), payloadConverter);
    expect(failure.message).toBe('Encoded failure');
    expect(JSON.stringify(failure)).not.toContain('/srv/corpora');
    const [sealed] = await payloadCodecs[0]!.encode([failure.encodedAttributes!]);
    expect(Buffer.from(sealed!.data!).includes('/srv/corpora')).toBe(false);
    const [opened] = await payloadCodecs[0]!.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toMatchObject({ message: 'cannot read /srv/corpora/secret.jsonl' });
  });
});
