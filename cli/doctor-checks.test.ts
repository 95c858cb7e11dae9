import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { bounded, searchAttributeProblems } from './doctor-checks';

const { INDEXED_VALUE_TYPE_KEYWORD: keyword, INDEXED_VALUE_TYPE_INT: int } = proto.temporal.api.enums.v1.IndexedValueType;

describe('searchAttributeProblems', () => {
  const wanted = ['MlcStage', 'MlcModel', 'MlcVersion'];

  it('finds nothing wrong when each is a keyword, whatever else is registered', () => {
    expect(searchAttributeProblems({ MlcStage: keyword, MlcModel: keyword, MlcVersion: keyword, Other: int }, wanted)).toEqual([]);
  });

  it('names the missing ones and the ones of another type', () => {
    expect(searchAttributeProblems({ MlcVersion: int }, wanted)).toEqual(['MlcStage, MlcModel not registered', 'MlcVersion is int, not keyword']);
  });
});

describe('bounded', () => {
  it('gives the work’s result when it comes in time', async () => {
    expect(await bounded(Promise.resolve('done'), 1000, () => 'hung')).toBe('done');
  });

  it('gives the hung answer, with the seconds waited, when the work never ends', async () => {
    expect(await bounded(new Promise<string>(() => {}), 50, (s) => `hung after ${s} s`)).toBe('hung after 0.1 s');
  });

  it('passes the work’s failure on', async () => {
    await expect(bounded(Promise.reject(new Error('refused')), 1000, () => 'hung')).rejects.toThrow('refused');
  });
});
