// What an Azure ML deployment of one model version is made of: the model folder to register
// (the run's ONNX model, tokenizer and labels, plus serving.json), the scoring code
// (package/score.py) and its environment (package/conda.yaml). serving.json carries what
// score.py must do exactly as the Node scorer does (maxLength, batch size, special-token
// frame, pad id, normalisation), taken from the Node scorer itself so the two cannot drift.
// Of the run's two ONNX files only the one its deploy.json chose (the spec's serving.precision)
// ships, under its own name; serving.json's modelFile tells score.py which it is.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelFileMissingError } from '../scoring/errors';
import { loadEncoder, readLabels } from '../scoring/onnx-scorer';
import { readServingChoice } from '../scoring/serving-choice';

export interface PackageFile {
  name: string;
  bytes: Buffer;
}

export interface DeployablePackage {
  /** The code folder: score.py, the Azure ML scoring script. */
  code: PackageFile[];
  /** The model folder to register: run files plus serving.json. */
  model: PackageFile[];
  /** conda.yaml: the Environment score.py runs in. */
  condaFile: string;
  /** sha256 over every file's name and bytes (code, model, conda.yaml): one value per deployable. */
  sha256: string;
}

export const PACKAGE_SOURCE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'package');
/** score.py refuses a serving.json of another format or normalisation. */
export const SERVING_FORMAT = 'mlc-serving/1';
/** The name of normalizeText (domain/dataset.ts) as score.py reimplements it. */
export const NORMALIZATION = 'nfc-collapse-whitespace-drop-zwsp-fold-thai-repeats/2';
// The Node scorer's default batch size: equal batches pad equally, so logits match to the bit.
const BATCH_SIZE = 32;

// Plus the chosen ONNX file (model.onnx or model.int8.onnx).
const REQUIRED_MODEL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'labels.json'];
const OPTIONAL_MODEL_FILES = ['special_tokens_map.json'];
const PRODUCED_BY =
  'An Azure ML package is built from a finished training run folder (slurm/train.py writes model.onnx, the tokenizer files and labels.json); check the run finished (DONE) and the path is its output folder.';

async function readModelFile(modelDir: string, name: string, required: boolean): Promise<PackageFile | null> {
  try {
    return { name, bytes: await readFile(join(modelDir, name)) };
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    if (required) throw new ModelFileMissingError(modelDir, name, PRODUCED_BY, { cause });
    return null;
  }
}

export async function buildDeployablePackage(modelDir: string, info: { model: string; version: number; maxLength?: number }): Promise<DeployablePackage> {
  if (!info.model) throw new RangeError('buildDeployablePackage: model name is empty');
  if (!Number.isInteger(info.version) || info.version < 1)
    throw new RangeError(`buildDeployablePackage: version must be a positive integer, got ${info.version}`);
  const choice = await readServingChoice(modelDir);
  const files: PackageFile[] = [];
  for (const name of [choice.file, ...REQUIRED_MODEL_FILES]) files.push((await readModelFile(modelDir, name, true))!);
  for (const name of OPTIONAL_MODEL_FILES) {
    const file = await readModelFile(modelDir, name, false);
    if (file) files.push(file);
  }

  // Loading them as the Node scorer does validates them and yields the settings to copy.
  const labels = await readLabels(modelDir);
  const encoder = await loadEncoder(modelDir, { maxLength: info.maxLength });
  const serving = {
    format: SERVING_FORMAT,
    model: info.model,
    version: info.version,
    labels,
    maxLength: encoder.maxLength,
    batchSize: BATCH_SIZE,
    padId: encoder.padId,
    frame: encoder.frame,
    normalization: NORMALIZATION,
    // Absent means model.onnx to a score.py from before int8; written always, so it is explicit.
    modelFile: choice.file,
    precision: choice.precision,
  };
  files.push({ name: 'serving.json', bytes: Buffer.from(JSON.stringify(serving, null, 2) + '\n') });
  const model = files.sort((a, b) => (a.name < b.name ? -1 : 1));

  const code = [{ name: 'score.py', bytes: await readFile(join(PACKAGE_SOURCE_DIR, 'score.py')) }];
  const condaFile = await readFile(join(PACKAGE_SOURCE_DIR, 'conda.yaml'), 'utf8');
  return { code, model, condaFile, sha256: packageHash(code, model, condaFile) };
}

function packageHash(code: PackageFile[], model: PackageFile[], condaFile: string): string {
  const h = createHash('sha256');
  const entries = [
    ...code.map((f) => [`code/${f.name}`, f.bytes] as const),
    ...model.map((f) => [`model/${f.name}`, f.bytes] as const),
    ['conda.yaml', Buffer.from(condaFile)] as const,
  ];
  // Length-prefixed, so no two different packages hash the same byte stream.
  for (const [name, bytes] of entries) h.update(`${name}\0${bytes.length}\0`).update(bytes);
  return h.digest('hex');
}
