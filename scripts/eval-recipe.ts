// Helper of scripts/eval-recipe.sh (read that first): the Node halves of a recipe check, done with
// the lifecycle's own code so the numbers are the ones the demo gets.
//   prep  SPEC OUT [PARAMS_JSON]  preprocess the spec's data exactly as the preprocess stage does
//                                 (OUT/data/{train,valid,test}.jsonl) and write OUT/config.json for
//                                 slurm/train.py: labels, dataset hash, the spec's params with
//                                 PARAMS_JSON merged over them
//   score MODEL_DIR FILE...       score each JSONL file through the endpoint's ONNX scorer (texts
//                                 normalized as serving does) and print accuracy, macro-F1 and
//                                 per-class recall and F1; then the three showcase texts and the
//                                 hand-written obvious examples (scripts/check-examples.ts)
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { normalizeText } from '../domain/dataset';
import { classificationReport } from '../domain/metrics';
import { parseSpec, trainingParamOverridesSchema } from '../domain/spec';
import { preprocessDataset } from '../adapters/datasets/preprocess';
import { checkExamples, obviousExamples, SHOWCASE, type Predict } from './check-examples';

async function prep(specFile: string, out: string, overrides: string | undefined): Promise<void> {
  const abs = path.resolve(specFile);
  const spec = parseSpec(parseYaml(await readFile(abs, 'utf8')), abs);
  const result = await preprocessDataset({ spec, specDir: path.dirname(abs), outDir: path.join(out, 'data') });
  const params = { ...spec.training.params, ...trainingParamOverridesSchema.parse(JSON.parse(overrides || '{}')) };
  const config = { labels: spec.labels, datasetHash: result.hash, pretrainedDir: null, params };
  await writeFile(path.join(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const rows = (s: 'train' | 'valid' | 'test') => Object.values(result.report.perLabel[s]).reduce((a, b) => a + b, 0);
  console.log(`prep: ${spec.data.path} → train ${rows('train')} valid ${rows('valid')} test ${rows('test')} rows; dataset ${result.hash.slice(0, 12)}`);
  console.log(`prep: params ${JSON.stringify(params)}`);
}

async function readJsonl(file: string): Promise<{ text: string; label: string }[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { text: string; label: string });
}

const f3 = (x: number) => x.toFixed(3);

async function score(modelDir: string, files: string[]): Promise<void> {
  const { loadScorer } = await import('../adapters/scoring/onnx-scorer'); // prep does without onnxruntime
  const scorer = await loadScorer(modelDir);
  try {
    for (const file of files) {
      const rows = (await readJsonl(file)).map((r) => ({ text: normalizeText(r.text), label: r.label })).filter((r) => r.text);
      const predicted = (await scorer.predict(rows.map((r) => r.text))).map((p) => p.label);
      const rep = classificationReport(
        scorer.labels,
        rows.map((r) => r.label),
        predicted,
      );
      const per = (k: 'recall' | 'f1') => scorer.labels.map((l) => `${l} ${f3(rep.perClass[l]![k])}`).join(' ');
      console.log(`score ${file}: n ${rep.n} accuracy ${f3(rep.accuracy)} macro_f1 ${f3(rep.macro_f1)} recall: ${per('recall')} | f1: ${per('f1')}`);
    }
    const predict: Predict = (texts) => scorer.predict(texts.map(normalizeText)); // as serving does
    const showcase = await checkExamples(predict, SHOWCASE, 'showcase');
    const examples = obviousExamples();
    const missed = await checkExamples(predict, examples, 'obvious examples');
    console.log(
      `showcase ${SHOWCASE.length - showcase.length}/${SHOWCASE.length} right, obvious examples ${examples.length - missed.length}/${examples.length} right`,
    );
  } finally {
    await scorer.close();
  }
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'prep' && args.length >= 2) await prep(args[0]!, args[1]!, args[2]);
else if (cmd === 'score' && args.length >= 1) await score(args[0]!, args.slice(1));
else {
  console.error('usage: eval-recipe.ts prep SPEC OUT [PARAMS_JSON] | score MODEL_DIR FILE...');
  process.exit(2);
}
