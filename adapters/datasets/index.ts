// Datasets on disk: reading JSONL/CSV, and the preprocess stage (clean, split, hash, write).
// The pure parts (normalization, cleaning, splitting, the report) are in domain/dataset.
export { CsvReader, parseCsv, type CsvRecord } from './csv';
export { confineDataPath, dataAccessFrom, DataPathRefusedError, type DataAccess } from './data-roots';
export { DatasetNotFoundError, detectFormat, readDataset, readDatasetRows, readLines, type DatasetFormat, type ReadOptions, type ReadResult } from './read';
export {
  datasetHash,
  preprocessDataset,
  sha256Hex,
  writeDatasetFile,
  type DatasetFile,
  type PreprocessInput,
  type PreprocessReport,
  type PreprocessResult,
  type SourceSummary,
} from './preprocess';
export { DatasetError } from '../../domain/dataset';
