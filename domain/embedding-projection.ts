// A fixed random projection of the model's pooled embedding (the ONNX output `embedding`) to a
// few dimensions, so each logged prediction can carry it and monitoring can test embedding
// drift (domain classifier, MMD) on small vectors. Fixed means: a constant seed, so the test
// split scored at evaluation (the reference) and production traffic are projected by the very
// same matrix, on every machine and across restarts. Gaussian entries scaled by 1/√k keep
// distances in expectation (Johnson–Lindenstrauss), which is what the drift tests rely on.
import { seededRandom } from './random';

export const EMBEDDING_PROJECTION = {
  /** How many numbers each prediction carries. */
  dimensions: 32,
  /** Never change it: a new seed makes every logged embedding incomparable with the reference. */
  seed: 0x6d6c6331, // "mlc1"
  /** Names this scheme in logs and reports, so a future change is visible. */
  scheme: 'gaussian-jl-mulberry32/1',
} as const;

export interface EmbeddingProjection {
  readonly inputSize: number;
  readonly dimensions: number;
  /** Projects the `inputSize` numbers of `values` starting at `offset` (one row of a batch). */
  project(values: ArrayLike<number>, offset?: number): number[];
}

/** Standard normal draws by Box–Muller from the seeded uniform source. */
function gaussians(count: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random())); // 1 - u: never log(0)
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

const cache = new Map<string, EmbeddingProjection>();

/**
 * The projection for embeddings of `inputSize` numbers: a [inputSize × dimensions] matrix of
 * N(0, 1/dimensions) entries, row by row from the constant seed. Built once per size.
 */
export function embeddingProjection(inputSize: number, dimensions: number = EMBEDDING_PROJECTION.dimensions): EmbeddingProjection {
  if (!Number.isInteger(inputSize) || inputSize < 1) throw new RangeError(`embedding size must be a positive integer, got ${inputSize}`);
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`projection dimensions must be a positive integer, got ${dimensions}`);
  const key = `${inputSize}x${dimensions}`;
  const known = cache.get(key);
  if (known) return known;
  const matrix = gaussians(inputSize * dimensions, EMBEDDING_PROJECTION.seed);
  const scale = 1 / Math.sqrt(dimensions);
  for (let i = 0; i < matrix.length; i++) matrix[i]! *= scale;
  const projection: EmbeddingProjection = {
    inputSize,
    dimensions,
    project(values, offset = 0) {
      if (values.length < offset + inputSize) throw new RangeError(`expected ${inputSize} embedding values at offset ${offset}, got ${values.length - offset}`);
      const out = new Array<number>(dimensions).fill(0);
      for (let i = 0; i < inputSize; i++) {
        const x = values[offset + i]!;
        if (x === 0) continue;
        const row = i * dimensions;
        for (let j = 0; j < dimensions; j++) out[j]! += x * matrix[row + j]!;
      }
      return out;
    },
  };
  cache.set(key, projection);
  return projection;
}
