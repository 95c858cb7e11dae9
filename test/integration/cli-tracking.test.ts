// mlc runs / alias / evaluate as a user runs them, against PostgreSQL (DATABASE_URL: no worker
// needed) and a real ONNX model from slurm/train.py: the registry rows the training activities
// write, read back through the commands, and a golden set scored through the product's scorer.
// Through a worker (the embedded registry) each call is the trackingRequest workflow; the two
// halves are tested in cli/registry-access.test.ts and activities/tracking.test.ts.
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordTrainingHistory } from '../../activities/run-tracking';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import { openRegistry } from '../../adapters/db/open';
import { mlc as runMlc } from '../e2e/process-helpers';
import { tinyDataset, tinyModel } from './helpers/tiny-model';

const base = new URL(process.env.MLC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/mlc_test');
const databaseUrl = Object.assign(new URL(base), { pathname: '/mlc_cli_tracking' }).toString();
let env: NodeJS.ProcessEnv;
let dir: string;

const mlc = (...args: string[]) => runMlc(env, ...args);

beforeAll(async () => {
  const admin = postgres(Object.assign(new URL(base), { pathname: '/postgres' }).toString(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe('drop database if exists mlc_cli_tracking');
    await admin.unsafe('create database mlc_cli_tracking');
  } finally {
    await admin.end();
  }
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-cli-tracking-'));
  // Temporal is unreachable on purpose: with DATABASE_URL these commands must not need it.
  env = {
    ...process.env,
    NO_COLOR: '1',
    DATABASE_URL: databaseUrl,
    MLC_DATA_DIR: dir,
    MLC_ARTIFACTS_ROOT: path.join(dir, 'artifacts'),
    TEMPORAL_ADDRESS: '127.0.0.1:1',
  };

  const model = await tinyModel();
  const store = new FsArtifactStore(path.join(dir, 'artifacts'));
  const registry = await openRegistry({ databaseUrl, dataDir: dir });
  try {
    for (const [attempt, learningRate] of [
      [1, 0.0005],
      [2, 0.001],
    ] as const) {
      const runKey = `tracked-g1-a${attempt}`;
      const runDir = `models/tracked/runs/${runKey}`;
      await cp(model.dir, path.join(dir, 'artifacts', runDir), { recursive: true });
      const manifest = await store.writeManifest(runDir);
      await registry.createRun({
        runKey,
        model: 'tracked',
        generation: 1,
        attempt,
        datasetHash: 'd'.repeat(64),
        cluster: 'local',
        params: { epochs: 1, learningRate },
        artifactUri: store.uriOf(runDir),
      });
      const metricsFile = JSON.parse(await readFile(path.join(dir, 'artifacts', runDir, 'metrics.json'), 'utf8')) as { best: { val_macro_f1: number } };
      await registry.updateRun(runKey, { state: 'succeeded', finished: true, metrics: { best_val_macro_f1: metricsFile.best.val_macro_f1 } });
      await recordTrainingHistory(registry, runKey, metricsFile);
      const sha256 = manifest.files.find((f) => f.key.endsWith('model.onnx'))!.sha256;
      await registry.registerModelVersion({ model: 'tracked', runKey, artifactUri: store.uriOf(runDir), sha256, metrics: {} });
    }
    await registry.recordDeployment({
      model: 'tracked',
      version: 1,
      target: 'local',
      endpointUrl: 'http://e',
      artifactSha256: 's',
      actor: 'bob',
      deploymentKey: 'tracked-d1',
    });
  } finally {
    await registry.close();
  }
}, 300_000);

describe('mlc runs', () => {
  it('lists the runs with what tells them apart, and shows one with its curves and files', async () => {
    const list = await mlc('runs', 'tracked');
    expect(list.stderr).toBe('');
    expect(list.stdout).toMatch(/^run\s+version\s+state.*commit\s+best_val_macro_f1\s+learningRate\n/);
    expect(list.stdout).toMatch(/tracked-g1-a2\s+v2\s+succeeded.*[0-9a-f]{8}\s+\d\.\d{4}\s+0\.001\n/);
    expect(list.stdout).toContain('params of every run: epochs=1');

    const show = await mlc('runs', 'show', 'tracked-g1-a1');
    expect(show.stdout).toMatch(/commit\s+[0-9a-f]{40}/);
    expect(show.stdout).toMatch(/val_macro_f1\s+\S+ {2}\d\.\d{4} → \d\.\d{4}/);
    expect(show.stdout).toMatch(/lr \(per step\)/);
    expect(show.stdout).toMatch(/model\.onnx\s+\d+\.\d KB/);

    const json = JSON.parse((await mlc('runs', 'show', 'tracked-g1-a1', '--json')).stdout) as { history: { metric: string }[]; run: { version: number } };
    expect(json.run.version).toBe(1);
    expect(json.history.some((p) => p.metric === 'val_macro_f1')).toBe(true);

    const compare = await mlc('runs', 'compare', 'tracked-g1-a1', 'tracked-g1-a2');
    expect(compare.stdout).toMatch(/learningRate\s+0\.0005\s+0\.001\s+≠/);
    expect((await mlc('runs', 'show', 'nope')).code).toBe(2);
  });
});

describe('mlc alias', () => {
  it('keeps champion for deployments, sets others with who and why', async () => {
    const refused = await mlc('alias', 'set', 'tracked', 'champion', '2', '--as', 'carol', '--reason', 'x');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/only a deployment moves it/);
    expect((await mlc('alias', 'set', 'tracked', 'golden', '2', '--as', 'carol', '--reason', 'best on the golden set')).stdout).toContain(
      '✓ tracked@golden → v2',
    );
    const list = await mlc('alias', 'list', 'tracked', '--history');
    expect(list.stdout).toMatch(/champion\s+v1\s+.*bob\s+deployed to local/);
    expect(list.stdout).toMatch(/golden\s+v2\s+.*carol\s+best on the golden set/);
  });
});

describe('mlc evaluate', () => {
  it('scores a golden set through the real scorer and prints the model card tables, or JSON', async () => {
    const file = path.join(dir, 'golden.jsonl');
    const rows = [...tinyDataset(40, 11), { text: 'x', label: 'unknown' }];
    await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const text = await mlc('evaluate', 'tracked', '--version', 'champion', '--data', file);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^# tracked v1 on ${file}: \\d+ rows scored \\(1 skipped: 1 unknown_label`));
    expect(text.stdout).toMatch(/\| metric \| value \| interval \|\n\|---\|---\|---\|\n\| accuracy \| \d+\.\d% \| \d+\.\d% – \d+\.\d% \|/);
    expect(text.stdout).toMatch(/## Confusion matrix/);
    const json = JSON.parse((await mlc('evaluate', 'tracked', '--version', '2', '--data', file, '--json')).stdout) as {
      version: number;
      rows: number;
      report: { n: number };
    };
    expect(json.version).toBe(2);
    expect(json.report.n).toBe(json.rows);
    expect((await mlc('evaluate', 'tracked', '--version', '9', '--data', file)).stderr).toMatch(/no version 9/);
  });
});
