// The mlc command as a user runs it: exit codes and messages that say what to fix.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../temporal.config';
import { mlc as runMlc } from '../e2e/process-helpers';

let dir: string;

const mlcWith = (env: NodeJS.ProcessEnv, ...args: string[]) => runMlc({ ...process.env, ...env }, ...args);
const mlc = (...args: string[]) => mlcWith({}, ...args);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-cli-'));
});

describe('mlc', () => {
  it('validates the example spec', async () => {
    const r = await mlc('validate', 'examples/thai-sentiment.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('model thai-sentiment, labels neg, neu, pos, q');
  });

  it('loads only what the command needs: no Temporal client, Azure SDK, ONNX runtime or database driver for help or a key', async () => {
    const heavy = ['@temporalio/client', '@azure/', 'onnxruntime-node', '@electric-sql/pglite', '/postgres/'];
    const loaded = async (...args: string[]) => {
      const file = path.join(dir, `imports-${args[0]}-${Date.now()}.txt`);
      const hook = path.join(repoRoot, 'test/integration/helpers/record-imports.mjs');
      const r = await mlcWith({ MLC_RECORD_IMPORTS: file, NODE_OPTIONS: `--import=${hook}`, MLC_KEYS_DIR: path.join(dir, 'keys') }, ...args);
      expect(r.code, r.stderr).toBe(0);
      return (await readFile(file, 'utf8')).split('\n');
    };
    for (const args of [['--help'], ['keys', 'init', '--as', 'carol']]) {
      const urls = await loaded(...args);
      expect(urls.some((u) => u.endsWith('/cli/main.ts'))).toBe(true); // the hook saw the command load
      expect(urls.filter((u) => heavy.some((h) => u.includes(h)))).toEqual([]);
    }
    // What a command needs is recorded: validate loads the spec's schema.
    const urls = await loaded('validate', 'examples/thai-sentiment.yaml');
    expect(urls.some((u) => u.includes('/domain/spec.ts'))).toBe(true);
  });

  it('names every bad field of a spec and exits 2', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'name: Bad Name\nlabels: [a]\ndata: {path: x.jsonl}\ntraining: {params: {epochs: -1}}\nroles: {auditors: [alice], deployers: []}\n');
    const r = await mlc('validate', file);
    expect(r.code).toBe(2);
    for (const field of ['name', 'labels', 'training.params.epochs', 'roles.deployers']) expect(r.stderr).toContain(`- ${field}:`);
  });

  it('refuses a cluster or Azure ML workspace the configuration does not name, listing the ones it does', async () => {
    const file = path.join(dir, 'elsewhere.yaml');
    await writeFile(
      file,
      'name: elsewhere\nlabels: [a, b]\ndata: {path: x.jsonl}\ntraining: {cluster: nowhere}\nroles: {auditors: [alice], deployers: [bob]}\n' +
        'deployment: {target: azureml, workspace: prod, endpoint: elsewhere}\n',
    );
    const r = await mlc('validate', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/- training\.cluster: "nowhere" is not a configured cluster \(configured: local, local-process\)/);
    expect(r.stderr).toMatch(/- deployment\.workspace: "prod" is not a configured Azure ML workspace \(configured: none\)/);
    expect((await mlc('validate', 'examples/thai-sentiment-azure.yaml')).stderr).toMatch(/"emulated" is not a configured Azure ML workspace/);
  });

  it('says when a spec file is not YAML, or missing', async () => {
    const file = path.join(dir, 'broken.yaml');
    await writeFile(file, 'name: [unclosed\n');
    expect((await mlc('validate', file)).stderr).toMatch(/not valid YAML/);
    expect((await mlc('validate', path.join(dir, 'nope.yaml'))).stderr).toMatch(/cannot read the file \(ENOENT\)/);
  });

  it('refuses a bad --set before contacting anything', async () => {
    const r = await mlc('audit', 'reject', 'thai-sentiment', '--as', 'alice', '--reason', 'x', '--set', 'epochs=0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--set: epochs/);
  });

  it('refuses a stage no lifecycle reaches at once, rather than at the timeout', async () => {
    const r = await mlc('wait', 'thai-sentiment', '--stage', 'monitoring', '--stage', 'deployed');
    expect([r.code, r.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/^mlc: --stage deployed: not a stage; a lifecycle goes through preprocessing, training, .*monitoring/),
    ]);
  });

  it('asks for the required options', async () => {
    const r = await mlc('audit', 'approve', 'thai-sentiment');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--as <user>/);
  });

  it('names a lifecycle that does not exist, the namespace looked in, and how to list them, whichever command asked', async () => {
    const commands = [
      ['status', 'no-such-model'],
      ['logs', 'no-such-model'],
      ['wait', 'no-such-model', '--stage', 'monitoring'],
      ['audit', 'approve', 'no-such-model', '--as', 'alice', '--reason', 'looks good'],
      ['deploy', 'no-such-model', '--as', 'bob'],
      ['rollback', 'no-such-model', '--to', '1', '--as', 'bob', '--reason', 'bad version'],
    ];
    for (const args of commands) {
      const r = await mlc(...args);
      expect([r.code, r.stderr.trim()], args.join(' ')).toEqual([
        1,
        expect.stringMatching(/^mlc: No lifecycle mlc-no-such-model in namespace \S+\. List them with: mlc status$/),
      ]);
    }
    const monitor = await mlc('monitor', 'no-such-model');
    expect([monitor.code, monitor.stderr.trim()]).toEqual([
      1,
      'mlc: no monitoring Schedule for no-such-model: it exists once a version of no-such-model is deployed (mlc status no-such-model)',
    ]);
  });
});
