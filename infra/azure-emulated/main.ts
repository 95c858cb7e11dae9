// Runs the emulated Azure stack until stopped (SIGINT/SIGTERM), for `npm run demo:azure` or
// for trying `target: azureml` by hand. Writes <dir>/env.sh: source it in the shell that runs
// the worker and mlc (it sets MLC_CONFIG and the emulator's well-known storage key).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startEmulatedAzure } from './stack';

const dir = path.resolve(process.argv[2] ?? '.data/azure-emulated');
const stack = await startEmulatedAzure(dir);
const envFile = path.join(dir, 'env.sh');
await writeFile(
  envFile,
  Object.entries(stack.env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n') + '\n',
  { mode: 0o600 },
);
console.log(`azure emulated: Resource Manager ${stack.emulator.armEndpoint}, Blob ${stack.azurite.blobEndpoint}`);
console.log(`azure emulated ready: source ${envFile}`);
// A listener's promise is dropped by the emitter: a failed stop must say so and exit nonzero itself.
const stop = () => {
  stack.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('azure emulated: stopping failed:', err);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
