// Which ONNX file of a run folder serves: the training job writes model.onnx (fp32) and
// model.int8.onnx, and deploy.json naming the one the spec's serving.precision chose. The
// endpoint, monitoring and the Azure package read the choice here, so they all ship and score
// the same file without being told; evaluation asks for each precision by name.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFiles, servingPrecisions, type ServingPrecision } from '../../domain/artifact-layout';
import { ModelFormatError, ScoringError } from './errors';

export interface ServingChoice {
  precision: ServingPrecision;
  /** The ONNX file's name inside the run folder. */
  file: string;
  /** Whether deploy.json said so (false: a run folder from before int8, scored as fp32). */
  recorded: boolean;
}

/** The run folder's deploy.json, validated; fp32 (model.onnx) when the folder has none. */
export async function readServingChoice(modelDir: string): Promise<ServingChoice> {
  let text: string;
  try {
    text = await readFile(join(modelDir, runFiles.deployChoice), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { precision: 'fp32', file: runFiles.onnx.fp32, recorded: false };
    throw new ScoringError(`cannot read ${runFiles.deployChoice} in ${modelDir}: ${(cause as Error).message}`, modelDir, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ModelFormatError(modelDir, runFiles.deployChoice, `not valid JSON (${(cause as Error).message})`, { cause });
  }
  const { precision, file } = (parsed ?? {}) as { precision?: unknown; file?: unknown };
  if (!servingPrecisions.includes(precision as ServingPrecision) || file !== runFiles.onnx[precision as ServingPrecision]) {
    const known = servingPrecisions.map((p) => `{"precision": "${p}", "file": "${runFiles.onnx[p]}"}`).join(' or ');
    throw new ModelFormatError(modelDir, runFiles.deployChoice, `must be ${known}, found ${text.trim().slice(0, 200)}`);
  }
  return { precision: precision as ServingPrecision, file, recorded: true };
}

/** The file to score with: the precision asked for, else the folder's recorded choice. */
export async function servingFile(modelDir: string, precision?: ServingPrecision): Promise<ServingChoice> {
  if (precision === undefined) return readServingChoice(modelDir);
  if (!servingPrecisions.includes(precision))
    throw new ScoringError(`precision must be one of ${servingPrecisions.join(', ')}, got ${String(precision)}`, modelDir);
  return { precision, file: runFiles.onnx[precision], recorded: false };
}
