// ActivityDeps for tests that run activities on real local adapters (PGlite or PostgreSQL, a
// folder artifact store, the ONNX scorer) and need no cluster, Temporal client or Azure ML:
// calling one of those fails the test with a sentence saying so.
import type { ActivityDeps } from '../../../activities';
import type { ArtifactStore } from '../../../adapters/artifacts/port';
import type { Registry } from '../../../adapters/db/port';
import { loadScorer } from '../../../adapters/scoring/onnx-scorer';
import { loadConfig, type MlcConfig } from '../../../temporal.config';

export function localActivityDeps(o: {
  dataRoot: string;
  registry: Registry;
  store: ArtifactStore;
  endpointUrl?: string;
  config?: Partial<MlcConfig>;
}): ActivityDeps {
  return {
    config: { ...loadConfig({ ...process.env, MLC_DATA_ROOTS: o.dataRoot }), ...o.config },
    registry: o.registry,
    store: o.store,
    executor: () => {
      throw new Error('no cluster in this test');
    },
    loadScorer,
    temporal: null as never,
    endpointUrl: o.endpointUrl ?? '',
    azureMl: () => {
      throw new Error('no Azure ML workspace in this test');
    },
  };
}
