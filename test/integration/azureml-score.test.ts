// The Azure ML package against the Node scorer, with no Azure: score.py in .venv-serving (the
// pinned stand-in for the Azure ML environment) must answer what the Node scorer answers, both
// called directly and under the real inference server (azmlinfsrv), and its request log must
// land in Blob (Azurite) where readRequestLog finds it. A train/serve skew here is silent in
// production: confident predictions for a slightly different text.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDeployablePackage, PACKAGE_SOURCE_DIR, type DeployablePackage } from '../../adapters/azureml/package';
import { BLANK_TEXT } from '../../adapters/endpoint/schemas';
import { readRequestLog } from '../../adapters/azureml/request-log';
import { loadScorer } from '../../adapters/scoring/onnx-scorer';
import type { Prediction, Scorer } from '../../adapters/scoring/port';
import { normalizeText } from '../../domain/dataset';
import { seededRandom } from '../../domain/random';
import { startAzurite, type Azurite } from '../../infra/azure-emulated/azurite';
import { freePort } from '../../infra/free-port';
import { REPO_ROOT, tinyDataset, tinyModel, TOKENIZER_PROBES, type TinyModel } from './helpers/tiny-model';

const SERVING_VENV = join(REPO_ROOT, '.venv-serving');
const SERVING_PYTHON = join(SERVING_VENV, 'bin/python');
const AZMLINFSRV = join(SERVING_VENV, 'bin/azmlinfsrv');
const MODEL = 'tiny';
const VERSION = 3;
const DEPLOYMENT = 'blue';

// Imports score.py as the server does, calls init() and then run() with a real Flask request
// per body; prints each answer. With flushLog, it also flushes the request log and reports the
// warnings it logged (a log that cannot be written must not fail the answer).
const DRIVER = `
import importlib.util, json, logging, os, sys
req = json.load(sys.stdin)
os.environ.update(req['env'])
warnings = []
class Catch(logging.Handler):
    def emit(self, record): warnings.append(record.getMessage())
logging.getLogger('mlc.score').addHandler(Catch(logging.WARNING))
spec = importlib.util.spec_from_file_location('score', req['script'])
score = importlib.util.module_from_spec(spec)
spec.loader.exec_module(score)
score.init()
from flask import Request
from werkzeug.test import EnvironBuilder
out = []
for body in req['bodies']:
    env = EnvironBuilder(method='POST', data=body, content_type='application/json', headers={'x-ms-request-id': 'driver-1'}).get_environ()
    resp = score.run(Request(env))
    out.append({'status': resp.status_code, 'body': json.loads(resp.get_data())})
if req.get('flushLog'):
    score._log.flush()
print(json.dumps({'answers': out, 'warnings': warnings}))
`;

interface Answer {
  status: number;
  body: { model: string; version: number; deployment: string; predictions: Prediction[]; requestId: string; error?: string };
}

function runServingPython(input: unknown): Promise<{ answers: Answer[]; warnings: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SERVING_PYTHON, ['-c', DRIVER], { cwd: REPO_ROOT, env: { ...process.env, OMP_NUM_THREADS: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`score.py driver exited ${code}:\n${stderr.slice(-4000)}`));
      resolve(JSON.parse(stdout));
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/** 200 texts: the tokenizer probes, real Wisesight posts, tiny-corpus sentences, normalisation traps. */
function parityTexts(): string[] {
  const wisesight = readFileSync(join(REPO_ROOT, 'data/wisesight-sample/train.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, 100)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const traps = [
    'NEL\u0085inside and \u0085 edges\u0085',
    'file separators \u001c\u001d\u001e\u001f stay',
    ' \u2000en\u2001quad\u3000ideographic ',
    'zw\u200bsp and \u200b\u200b only',
    '\u200b \ufeff ๆ \u200b',
    'ก\u0e49\u0e38 tone before below-vowel',
    'ก\u0e38\u0e49 below-vowel before tone',
    'cafe\u0301 Å A\u030a',
    'ﬁ ligature stays (NFC, not NFKC)',
    'ZWJ 👩\u200d💻 ZWNJ a\u200cb',
    'x'.repeat(400),
    'ดีมาก'.repeat(80),
  ];
  const random = seededRandom(11);
  const mixed = tinyDataset(80, 9).map((r) => (random() < 0.3 ? `  ${r.text}\n\t${r.text} ` : r.text));
  // Only texts with something to score: /score refuses a blank one (tested below).
  const texts = [...TOKENIZER_PROBES, ...traps, ...wisesight, ...mixed].filter((t) => normalizeText(t));
  return texts.slice(0, 200);
}

function expectSamePredictions(actual: Prediction[], expected: Prediction[], tolerance = 1e-5): void {
  expect(actual).toHaveLength(expected.length);
  let worst = 0;
  actual.forEach((p, i) => {
    expect(p.label, `text ${i}`).toBe(expected[i]!.label);
    expect(Object.keys(p.probabilities)).toEqual(Object.keys(expected[i]!.probabilities));
    for (const [label, prob] of Object.entries(expected[i]!.probabilities)) worst = Math.max(worst, Math.abs(p.probabilities[label]! - prob));
  });
  expect(worst).toBeLessThan(tolerance);
}

/** Writes the package as Azure lays it out: code in one folder, the model in a subfolder of AZUREML_MODEL_DIR. */
async function writePackage(pkg: DeployablePackage, root: string): Promise<{ script: string; modelRoot: string }> {
  const codeDir = join(root, 'code');
  const modelRoot = join(root, 'azureml-models', MODEL, String(VERSION));
  const modelDir = join(modelRoot, 'run');
  await mkdir(codeDir, { recursive: true });
  await mkdir(modelDir, { recursive: true });
  for (const f of pkg.code) await writeFile(join(codeDir, f.name), f.bytes);
  for (const f of pkg.model) await writeFile(join(modelDir, f.name), f.bytes);
  return { script: join(codeDir, 'score.py'), modelRoot };
}

describe('Azure ML scoring package (score.py) against the Node scorer', () => {
  let tiny: TinyModel;
  let pkg: DeployablePackage;
  let work: string;
  let script: string;
  let modelRoot: string;
  let scorer: Scorer;
  let azurite: Azurite;
  const texts = parityTexts();
  let expected: Prediction[];
  const identity = { MLC_MODEL_NAME: MODEL, MLC_MODEL_VERSION: String(VERSION), MLC_DEPLOYMENT_NAME: DEPLOYMENT };

  beforeAll(async () => {
    if (!existsSync(AZMLINFSRV)) {
      throw new Error(
        `${AZMLINFSRV} not found: run \`bash scripts/setup.sh\` to build .venv-serving (the Azure ML scoring environment, from adapters/azureml/package/requirements.txt)`,
      );
    }
    tiny = await tinyModel();
    pkg = await buildDeployablePackage(tiny.dir, { model: MODEL, version: VERSION });
    work = await mkdtemp(join(tmpdir(), 'mlc-azureml-score-'));
    ({ script, modelRoot } = await writePackage(pkg, work));
    scorer = await loadScorer(tiny.dir);
    expected = await scorer.predict(texts.map(normalizeText));
    azurite = await startAzurite();
  });

  afterAll(async () => {
    await scorer?.close();
    await azurite?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packages the run folder, serving.json and score.py under one content hash', async () => {
    expect(pkg.code.map((f) => f.name)).toEqual(['score.py']);
    expect(pkg.model.map((f) => f.name)).toEqual([
      'labels.json',
      'model.onnx',
      'serving.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const serving = JSON.parse(pkg.model.find((f) => f.name === 'serving.json')!.bytes.toString());
    expect(serving).toMatchObject({ model: MODEL, version: VERSION, labels: tiny.labels, maxLength: 32, batchSize: 32 });
    expect(pkg.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await buildDeployablePackage(tiny.dir, { model: MODEL, version: VERSION })).sha256).toBe(pkg.sha256);
    expect((await buildDeployablePackage(tiny.dir, { model: MODEL, version: VERSION + 1 })).sha256).not.toBe(pkg.sha256);
  });

  it("run() gives the Node scorer's labels and probabilities (within 1e-5) on 200 texts", async () => {
    expect(texts).toHaveLength(200);
    const { answers } = await runServingPython({
      script,
      env: { ...identity, AZUREML_MODEL_DIR: modelRoot },
      bodies: [JSON.stringify({ texts }), JSON.stringify({ text: texts[0] }), JSON.stringify({ texts: ['ok', '\u200b \ufeff\u00a0\n'] })],
    });
    expect(answers[0]!.status).toBe(200);
    expect(answers[0]!.body).toMatchObject({ model: MODEL, version: VERSION, deployment: DEPLOYMENT, requestId: 'driver-1' });
    expectSamePredictions(answers[0]!.body.predictions, expected);
    expectSamePredictions(answers[1]!.body.predictions, expected.slice(0, 1));
    // Nothing left once normalized: refused in the built-in endpoint's words (adapters/endpoint/schemas.ts).
    expect(answers[2]).toMatchObject({ status: 400, body: { error: `texts[1] ${BLANK_TEXT}` } });
  });

  it('ships and serves model.int8.onnx when the run chose int8, as the Node scorer scores it', async () => {
    const int8Dir = join(work, 'int8-run');
    await cp(tiny.dir, int8Dir, { recursive: true });
    await writeFile(join(int8Dir, 'deploy.json'), '{"precision": "int8", "file": "model.int8.onnx"}');
    const int8Pkg = await buildDeployablePackage(int8Dir, { model: MODEL, version: VERSION });
    expect(int8Pkg.model.map((f) => f.name)).toContain('model.int8.onnx');
    expect(int8Pkg.model.map((f) => f.name)).not.toContain('model.onnx');
    expect(JSON.parse(int8Pkg.model.find((f) => f.name === 'serving.json')!.bytes.toString())).toMatchObject({
      modelFile: 'model.int8.onnx',
      precision: 'int8',
    });
    const laidOut = await writePackage(int8Pkg, join(work, 'int8-package'));
    const int8Scorer = await loadScorer(int8Dir);
    try {
      expect(int8Scorer.precision).toBe('int8');
      const some = texts.slice(0, 60);
      const { answers } = await runServingPython({
        script: laidOut.script,
        env: { ...identity, AZUREML_MODEL_DIR: laidOut.modelRoot },
        bodies: [JSON.stringify({ texts: some })],
      });
      // Dynamic int8 quantizes each call's activations with a scale taken over the whole batch, so
      // a text's probabilities move slightly with the texts scored beside it; the Node scorer
      // groups texts by length and score.py does not.
      expectSamePredictions(answers[0]!.body.predictions, await int8Scorer.predict(some.map(normalizeText)), 5e-3);
    } finally {
      await int8Scorer.close();
    }
  });

  it('answers even when its request log cannot be written, and warns', async () => {
    const { answers, warnings } = await runServingPython({
      script,
      flushLog: true,
      bodies: [JSON.stringify({ texts: texts.slice(0, 3) })],
      env: {
        ...identity,
        AZUREML_MODEL_DIR: modelRoot,
        MLC_REQUEST_LOG_URL: `${azurite.blobEndpoint}/no-such-container/mlc`,
        MLC_REQUEST_LOG_CONNECTION_STRING: azurite.connectionString,
      },
    });
    expect(answers[0]!.status).toBe(200);
    expectSamePredictions(answers[0]!.body.predictions, expected.slice(0, 3));
    expect(warnings.join('\n')).toMatch(/request log: 3 lines not written .*ContainerNotFound/s);
  });

  it('conda.yaml and requirements.txt pin the same packages', () => {
    const pins = (text: string) => [...text.matchAll(/^\s*(?:-\s+)?([A-Za-z0-9._-]+==[^\s#]+)\s*$/gm)].map((m) => m[1]!.toLowerCase()).sort();
    const conda = pins(readFileSync(join(PACKAGE_SOURCE_DIR, 'conda.yaml'), 'utf8'));
    const requirements = pins(readFileSync(join(PACKAGE_SOURCE_DIR, 'requirements.txt'), 'utf8'));
    expect(requirements.length).toBeGreaterThanOrEqual(5);
    expect(conda).toEqual(requirements);
    expect(pkg.condaFile).toContain('python=3.11');
  });

  describe('under the real Azure ML inference server (azmlinfsrv)', () => {
    let server: ChildProcess;
    let output = '';
    let url: string;
    let container: ContainerClient;
    const started = new Date();

    beforeAll(async () => {
      container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('requestlogs');
      await container.create();
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      server = spawn(AZMLINFSRV, ['--entry_script', script, '--model_dir', modelRoot, '--port', String(port)], {
        cwd: work,
        env: {
          ...process.env,
          ...identity,
          OMP_NUM_THREADS: '2',
          MLC_REQUEST_LOG_URL: `${azurite.blobEndpoint}/requestlogs/mlc`,
          MLC_REQUEST_LOG_CONNECTION_STRING: azurite.connectionString,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      server.stdout!.on('data', (d) => (output += d));
      server.stderr!.on('data', (d) => (output += d));
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (server.exitCode !== null) throw new Error(`azmlinfsrv exited ${server.exitCode}:\n${output.slice(-4000)}`);
        const ok = await fetch(`${url}/`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`azmlinfsrv not healthy within 90 s:\n${output.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    });

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
    });

    it('scores as Node does, refuses a bad body with the expected shape, and logs each text to Blob', async () => {
      const res = await fetch(`${url}/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ms-request-id': 'req-azure-1' },
        body: JSON.stringify({ texts }),
      });
      const body = (await res.json()) as Answer['body'];
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ model: MODEL, version: VERSION, deployment: DEPLOYMENT, requestId: 'req-azure-1' });
      expectSamePredictions(body.predictions, expected);

      const bad = await fetch(`${url}/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: ['x'] }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/\{"texts": \["\.\.\.", \.\.\.\]\}.*\{"text": "\.\.\."\}/);
      const notJson = await fetch(`${url}/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{texts' });
      expect(notJson.status).toBe(400);
      expect(((await notJson.json()) as { error: string }).error).toMatch(/not valid JSON/);

      let logged: Awaited<ReturnType<typeof readRequestLog>> = [];
      const deadline = Date.now() + 30_000;
      while (logged.length < texts.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        logged = await readRequestLog(container, 'mlc', MODEL, started);
      }
      expect(logged).toHaveLength(texts.length);
      // Beside each answer, what monitoring measures: the same token stats and projected embedding the Node scorer gives.
      const observed = await scorer.predict(texts.map(normalizeText), { tokenStats: true, embeddings: true });
      logged.forEach((r, i) => {
        expect(r).toMatchObject({ model: MODEL, version: VERSION, requestId: 'req-azure-1', text: texts[i], label: expected[i]!.label });
        const stats = observed[i]!.tokenStats!;
        expect({ tokens: r.tokens, truncated: r.truncated, fallbackTokens: r.fallbackTokens }, texts[i]).toEqual({
          tokens: stats.count,
          truncated: stats.truncated,
          fallbackTokens: stats.fallback,
        });
        expect(r.embedding).toHaveLength(32);
        r.embedding!.forEach((v, k) => expect(Math.abs(v - observed[i]!.embedding![k]!)).toBeLessThan(1e-4));
      });
      expect(logged.some((r) => r.truncated)).toBe(texts.some((t) => t.length > 200));
      expect(logged.some((r) => (r.fallbackTokens ?? 0) > 0)).toBe(true);
      const names: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix: 'mlc/' })) names.push(b.name);
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(new RegExp(`^mlc/${MODEL}/${DEPLOYMENT}/\\d{4}/\\d{2}/\\d{2}/\\d{2}/[^/]+-\\d+\\.jsonl$`));
      expect(await readRequestLog(container, 'mlc', MODEL, new Date(Date.now() + 3_600_000))).toEqual([]);

      // A deployer's smoke request is answered and logged, marked, and left out of monitoring's window.
      const smoke = await fetch(`${url}/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ms-request-id': 'req-smoke-1' },
        body: JSON.stringify({ texts: [texts[0]], smoke: true }),
      });
      expect(smoke.status).toBe(200);
      const notSmoke = await fetch(`${url}/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts: [texts[0]], smoke: 'yes' }),
      });
      expect(notSmoke.status).toBe(400);
      let all: Awaited<ReturnType<typeof readRequestLog>> = [];
      for (const until = Date.now() + 30_000; all.length <= texts.length && Date.now() < until;) {
        await new Promise((r) => setTimeout(r, 500));
        all = await readRequestLog(container, 'mlc', MODEL, started, { includeSmoke: true });
      }
      expect(all.find((r) => r.requestId === 'req-smoke-1')).toMatchObject({ smoke: true });
      expect((await readRequestLog(container, 'mlc', MODEL, started)).map((r) => r.requestId)).not.toContain('req-smoke-1');
    });

    it('readRequestLog skips hour folders before since, other models and malformed lines (counted)', async () => {
      const line = (at: string, requestId: string) =>
        JSON.stringify({
          requestId,
          model: MODEL,
          version: VERSION,
          deployment: 'green',
          text: 't',
          label: 'pos',
          probabilities: { neg: 0.2, neu: 0.3, pos: 0.5 },
          at,
        });
      const now = new Date();
      const hour = now.toISOString().slice(0, 13).replace(/[-T]/g, '/');
      const put = (name: string, body: string) => container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
      // A recent line filed under an old hour: only a walk that lists old folders would find it.
      await put(`mlc/${MODEL}/green/2020/01/01/00/old-1.jsonl`, line(now.toISOString(), 'in-old-folder') + '\n');
      await put(
        `mlc/${MODEL}/green/${hour}/h-2.jsonl`,
        `${line(now.toISOString(), 'green-1')}\n{"requestId": "cut\n\n${line(new Date(now.getTime() - 7_200_000).toISOString(), 'too-old')}\n`,
      );
      await put(`mlc/other/green/${hour}/h-3.jsonl`, line(now.toISOString(), 'other-model').replace(`"model":"${MODEL}"`, '"model":"other"') + '\n');
      const malformed: string[] = [];
      const logged = await readRequestLog(container, 'mlc/', MODEL, new Date(now.getTime() - 3_600_000), {
        onMalformed: (blob, n, why) => malformed.push(`${blob}:${n} ${why}`),
      });
      const ids = new Set(logged.map((r) => r.requestId));
      expect(ids.has('green-1')).toBe(true);
      expect(ids.has('req-azure-1')).toBe(true);
      for (const absent of ['in-old-folder', 'too-old', 'other-model']) expect(ids.has(absent), absent).toBe(false);
      expect(malformed).toEqual([expect.stringMatching(new RegExp(`^mlc/${MODEL}/green/${hour}/h-2\\.jsonl:2 not JSON`))]);
      expect(logged.map((r) => r.createdAt)).toEqual([...logged.map((r) => r.createdAt)].sort());
    });
  });
});
