// The mlc command as a user runs it: exit codes and messages that say what to fix.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, taskQueues } from '../../temporal.config';
import { mlc as runMlc } from '../e2e/process-helpers';
import { registerFreshNamespace } from '../e2e/temporal-helpers';

let dir: string;

const mlcWith = (env: NodeJS.ProcessEnv, ...args: string[]) => runMlc({ ...process.env, ...env }, ...args);
const mlc = (...args: string[]) => mlcWith({}, ...args);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-cli-'));
});

describe('mlc', () => {
  it('validates the example spec and its data, as preprocess will read them', async () => {
    const r = await mlc('validate', 'examples/thai-sentiment.yaml');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('model thai-sentiment, labels neg, neu, pos, q');
    expect(r.stdout).toContain('✓ data ../data/wisesight/train.jsonl (jsonl, read here): 21,628 records, 21,450 kept: train 16,087 · valid 2,145 · test 3,218');
    expect(r.stdout).toMatch(/removed {5}85 quarantined \(conflicting_label 85\), 93 duplicates/);
    expect(r.stdout).toMatch(/dataset {5}[0-9a-f]{64} \(the hash its first generation will record\)/);
  });

  it('refuses a spec whose data preprocess would refuse, naming the cause and the rows, and skips the data with --no-data', async () => {
    const sample = path.join(repoRoot, 'data/wisesight-sample/train.jsonl');
    const spec = async (name: string, data: string) => {
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, `name: checked\nlabels: [neg, neu, pos, q]\ndata: {${data}}\nroles: {auditors: [alice], deployers: [bob]}\n`);
      return file;
    };
    const wrongField = await mlc('validate', await spec('wrong-field', `path: ${sample}, textField: body`));
    expect(wrongField.code).toBe(2);
    expect(wrongField.stderr).toMatch(/No usable rows in .*: all \d+ input rows were quarantined or duplicates \(missing_field \d+\)/);
    expect(wrongField.stderr).toContain('  line 1: missing_field: missing "body" (fields present: text, label)');

    const outside = path.join(dir, 'outside.jsonl');
    await writeFile(outside, '{"text": "ดี", "label": "pos"}\n');
    const refused = await mlc('validate', await spec('outside', 'path: outside.jsonl'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Refused to read data.path ${outside}`);
    expect(refused.stderr).toContain('it lies outside every data root');

    const missingFile = await spec('missing', `path: ${path.join(repoRoot, 'data/nope.jsonl')}`);
    const missing = await mlc('validate', missingFile);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/data\.path .*nope\.jsonl: no such file here .* validate it there with --on-worker, or skip it with --no-data/);
    const skipped = await mlc('validate', '--no-data', missingFile);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain('data not checked (--no-data)');
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
    expect(r.stderr.trim()).toBe('mlc: --set epochs=0: Too small: expected number to be >=1');
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
      ['retrain', 'no-such-model', '--as', 'alice', '--reason', 'new labels'],
      ['stop', 'no-such-model', '--as', 'alice', '--reason', 'retired'],
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

  // A namespace where no worker ever polls (other test files run workers in "default", whose pollers the server remembers for minutes).
  const idle = { namespace: 'mlc-cli-no-workers', env: { TEMPORAL_NAMESPACE: 'mlc-cli-no-workers' } };

  it('says at once that no worker answers a lifecycle, where it stands, and what to start, rather than "Failed to query Workflow" 30 s later', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    await registerFreshNamespace(connection, idle.namespace);
    const client = new Client({ connection, namespace: idle.namespace });
    const model = `idle-${Date.now()}`;
    const handle = await client.workflow.start('modelLifecycle', {
      taskQueue: taskQueues.control,
      workflowId: `mlc-${model}`,
      args: [],
      searchAttributes: { MlcModel: [model], MlcStage: ['awaiting_audit'], MlcVersion: ['2'] },
    });
    try {
      const commands = [
        ['status', model],
        ['logs', model],
        ['wait', model, '--stage', 'monitoring'],
        ['audit', 'approve', model, '--as', 'alice', '--reason', 'ok'],
        ['deploy', model, '--as', 'bob'],
      ];
      // All at once: each gives a worker started a moment ago 3 s, so one after another would take long.
      const started = Date.now();
      const answers = await Promise.all(commands.map((args) => mlcWith(idle.env, ...args)));
      expect(Date.now() - started).toBeLessThan(25_000); // the server alone waits 30 s for a worker
      answers.forEach((r, i) =>
        expect([r.code, r.stderr.trim()], commands[i]!.join(' ')).toEqual([
          1,
          `mlc: No worker is answering on task queue mlc-control (none has polled it lately). mlc-${model} was last awaiting_audit (version 2). ` +
            'Start one with npm run worker (README, "Driving it"): a worker answers a lifecycle\'s status, audits and deployments, and the lifecycle waits safely until one does.',
        ]),
      );
      // The list needs no worker: it shows the lifecycle, and warns that nothing moves it on.
      const list = await mlcWith(idle.env, 'status');
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`^mlc-${model} +awaiting_audit +version 2$`, 'm'));
      expect(list.stderr.trim()).toBe(
        '⚠ no worker polls task queue mlc-control (none has polled it lately): these lifecycles wait until one does. Start one with: npm run worker',
      );
    } finally {
      await handle.terminate('test over');
      await connection.close();
    }
  });

  it('says a lifecycle that has ended takes no more decisions, rather than "No lifecycle" (the server’s answer to an update)', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    await registerFreshNamespace(connection, idle.namespace);
    const client = new Client({ connection, namespace: idle.namespace });
    const model = `ended-${Date.now()}`;
    try {
      const handle = await client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId: `mlc-${model}`, args: [] });
      await handle.terminate('an operator ended it');
      const closed = (await handle.describe()).closeTime!.toISOString();
      const commands = [
        ['audit', 'approve', model, '--as', 'alice', '--reason', 'ok'],
        ['deploy', model, '--as', 'bob'],
        ['rollback', model, '--to', '1', '--as', 'bob', '--reason', 'back'],
        ['retrain', model, '--as', 'alice', '--reason', 'new labels'],
      ];
      const answers = await Promise.all(commands.map((args) => mlcWith(idle.env, ...args)));
      answers.forEach((r, i) =>
        expect([r.code, r.stderr.trim()], commands[i]!.join(' ')).toEqual([
          1,
          `mlc: mlc-${model} was TERMINATED at ${closed}, so it takes no more decisions. ` +
            'Its records stay (mlc status, mlc history); start a new lifecycle for the model with: mlc start <spec>.',
        ]),
      );
    } finally {
      await connection.close();
    }
  });

  it('starts a lifecycle with no worker polling, and warns that it begins once one does', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    await registerFreshNamespace(connection, idle.namespace);
    const model = `idle-start-${Date.now()}`;
    const spec = path.join(dir, `${model}.yaml`);
    await writeFile(spec, `name: ${model}\nlabels: [neg, pos]\ndata: {path: x.jsonl}\nroles: {auditors: [alice], deployers: [bob]}\n`);
    try {
      const r = await mlcWith(idle.env, 'start', spec);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`started mlc-${model}`);
      expect(r.stderr.trim()).toBe(
        '⚠ no worker polls task queue mlc-control (none has polled it lately): the lifecycle begins once one does. Start one with: npm run worker',
      );
      // A second start names the running one and how to end it on the record.
      const again = await mlcWith(idle.env, 'start', spec);
      expect([again.code, again.stderr.trim()]).toEqual([
        1,
        `mlc: A lifecycle for ${model} is already running (mlc-${model}). See it with: mlc status ${model}; end it on the record with: mlc stop ${model} --as <you> --reason "…"`,
      ]);
    } finally {
      await new Client({ connection, namespace: idle.namespace }).workflow
        .getHandle(`mlc-${model}`)
        .terminate('test over')
        .catch(() => undefined);
      await connection.close();
    }
  });

  it('says at once that no worker serves the embedded registry or reads the data on its machine, rather than after a minute', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    await registerFreshNamespace(connection, idle.namespace);
    const started = Date.now();
    const embedded = { ...idle.env, DATABASE_URL: '' };
    const [runs, undeploy, validate] = await Promise.all([
      mlcWith(embedded, 'runs', 'thai-sentiment'),
      // It reads the live version from the registry, itself a worker request here: the worker check comes first.
      mlcWith(embedded, 'undeploy', 'thai-sentiment', '--as', 'bob', '--reason', 'retired'),
      mlcWith(idle.env, 'validate', 'examples/thai-sentiment.yaml', '--on-worker'),
    ]);
    try {
      expect([runs.code, runs.stderr.trim()]).toEqual([
        1,
        'mlc: no worker polls task queue mlc-control (none has polled it lately): the embedded registry is read through a running worker. ' +
          'Start one (npm run worker; restart it if it predates this mlc), or set DATABASE_URL to the PostgreSQL registry the workers use.',
      ]);
      expect([undeploy.code, undeploy.stderr.trim(), undeploy.stdout]).toEqual([
        1,
        'mlc: no worker polls task queue mlc-control (none has polled it lately): it takes the version off. Start one with: npm run worker',
        '',
      ]);
      expect([validate.code, validate.stderr.trim()]).toEqual([
        1,
        'mlc: no worker polls task queue mlc-control (none has polled it lately): ' +
          'start one (npm run worker; restart it if it predates this mlc), or validate here without --on-worker',
      ]);
      expect(Date.now() - started).toBeLessThan(20_000);
      // Nothing was started that a worker would pick up later.
      const client = new Client({ connection, namespace: idle.namespace });
      const requests: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowType IN ('undeployModel', 'dataCheckRequest')` })) requests.push(w.workflowId);
      expect(requests).toEqual([]);
    } finally {
      await connection.close();
    }
  });
});
