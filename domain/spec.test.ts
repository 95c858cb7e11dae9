import { describe, expect, it } from 'vitest';
import { durationMs, parseSpec, SpecError } from './spec';

const minimal = { name: 'thai-sentiment', labels: ['neg', 'pos'], data: { path: 'd.jsonl' }, roles: { auditors: ['alice'], deployers: ['bob'] } };

describe('parseSpec', () => {
  it('fills defaults for everything optional', () => {
    const spec = parseSpec(minimal);
    expect(spec.training.cluster).toBe('local');
    expect(spec.training.params.epochs).toBe(3);
    expect(spec.training.profile.timeLimit).toBe('01:00:00');
    expect(spec.monitoring.psiThreshold).toBe(0.25);
    expect(spec.data.textField).toBe('text');
  });

  it('names every bad field by its path', () => {
    const bad = {
      ...minimal,
      name: 'Thai Sentiment',
      labels: ['neg'],
      training: { params: { epochs: 0, bogus: 1 } },
      roles: { auditors: [], deployers: ['bob'] },
    };
    const err = (() => {
      try {
        parseSpec(bad, 'spec.yaml');
      } catch (e) {
        return e as SpecError;
      }
    })()!;
    expect(err).toBeInstanceOf(SpecError);
    const paths = err.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'labels', 'training.params.epochs', 'training.params', 'roles.auditors']));
    expect(err.message).toContain('spec.yaml');
    expect(err.message).toContain('training.params.epochs');
  });

  it('refuses cluster-profile values that could smuggle shell or #SBATCH syntax', () => {
    for (const profile of [
      { partition: 'gpu; rm -rf /' },
      { modules: ['rocm/5.7 && curl x'] },
      { extraSbatch: ['--wrap=$(id)'] },
      { memory: '4G\n#SBATCH --uid=0' },
    ]) {
      expect(() => parseSpec({ ...minimal, training: { profile } })).toThrow(SpecError);
    }
    expect(
      parseSpec({ ...minimal, training: { profile: { gres: 'gpu:mi100:4', modules: ['rocm/5.7.1'], extraSbatch: ['--exclusive'] } } }).training.profile.gres,
    ).toBe('gpu:mi100:4');
  });

  it('refuses at validation what would only fail later: a zero interval, heads that do not divide the hidden size, an Azure rollout not ending at 100', () => {
    const issues = (extra: object) => {
      try {
        parseSpec({ ...minimal, ...extra });
        return [];
      } catch (e) {
        return (e as SpecError).issues;
      }
    };
    expect(issues({ monitoring: { every: '0s' } })).toEqual([
      expect.objectContaining({ path: 'monitoring.every', message: expect.stringContaining('longer than zero') }),
    ]);
    // One issue a field: a malformed duration is not also said to be zero.
    expect(issues({ monitoring: { every: '1 hour' } })).toEqual([
      expect.objectContaining({ path: 'monitoring.every', message: expect.stringContaining('like "30s"') }),
    ]);
    expect(issues({ labels: ['neg', 'pos', 'neg', 'q', 'pos'] })).toEqual([
      expect.objectContaining({ path: 'labels', message: 'labels must be unique: "neg", "pos" given more than once' }),
    ]);
    expect(issues({ training: { params: { hiddenSize: 63, numHeads: 2 } } })).toEqual([
      expect.objectContaining({ path: 'training.params.hiddenSize', message: expect.stringContaining('divisible by numHeads') }),
    ]);
    expect(issues({ training: { params: { hiddenSize: 64, numHeads: 4 } } })).toEqual([]);
    // A warm start keeps the deployed version's architecture; from scratch, a retrain may change it.
    expect(issues({ training: { retrain: { from: 'champion', params: { epochs: 1, lstmHidden: 32 } } } })).toEqual([
      expect.objectContaining({ path: 'training.retrain.params', message: expect.stringContaining("keeps the deployed version's architecture") }),
    ]);
    expect(issues({ training: { retrain: { from: 'scratch', params: { lstmHidden: 32 } } } })).toEqual([]);
    expect(issues({ training: { retrain: { from: 'champion', params: { epoch: 1 } } } })).toEqual([
      expect.objectContaining({ path: 'training.retrain.params' }),
    ]);
    expect(issues({ deployment: { target: 'azureml', workspace: 'prod', endpoint: 'ep-1', rollout: [10, 50] } })).toEqual([
      expect.objectContaining({ path: 'deployment.rollout' }),
    ]);
    expect(issues({ deployment: { target: 'azureml', workspace: 'prod', endpoint: 'x' } })).toEqual([expect.objectContaining({ path: 'deployment.endpoint' })]);
  });

  it('reads durations', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('2h')).toBe(7_200_000);
  });
});
