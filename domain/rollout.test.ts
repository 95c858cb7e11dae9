import { describe, expect, it } from 'vitest';
import { deploymentsToPrune, trafficStep, versionOfDeployment } from './rollout';

describe('trafficStep', () => {
  it('gives a first deployment everything', () => {
    expect(trafficStep({}, 'v1', 10)).toEqual({ v1: 100 });
  });
  it('moves traffic from the live version step by step, summing to 100', () => {
    const live = { v1: 100 };
    expect(trafficStep(live, 'v2', 10)).toEqual({ v1: 90, v2: 10 });
    expect(trafficStep(live, 'v2', 50)).toEqual({ v1: 50, v2: 50 });
    expect(trafficStep(live, 'v2', 100)).toEqual({ v1: 0, v2: 100 });
  });
  it('shares the rest in proportion among several live deployments, by largest remainder', () => {
    const step = trafficStep({ v1: 50, v2: 25, v3: 25 }, 'v4', 33);
    expect(step).toEqual({ v1: 33, v2: 17, v3: 17, v4: 33 }); // 67 as 33.5 + 16.75 + 16.75
    expect(Object.values(step).reduce((a, b) => a + b, 0)).toBe(100);
  });
  it('refuses a percentage Azure would refuse', () => {
    expect(() => trafficStep({}, 'v1', 12.5)).toThrow(/integer/);
    expect(() => trafficStep({}, 'v1', 101)).toThrow(/integer/);
  });
});

describe('deploymentsToPrune', () => {
  it('keeps the live ones and the newest idle ones up to keep, ignores foreign names', () => {
    const names = ['v1', 'v2', 'v3', 'v4', 'v5', 'blue'];
    expect(deploymentsToPrune(names, { v5: 100 }, 3)).toEqual(['v2', 'v1']);
    expect(deploymentsToPrune(names, { v1: 100 }, 2)).toEqual(['v4', 'v3', 'v2']);
    expect(deploymentsToPrune(names, { v5: 90, v4: 10 }, 1)).toEqual(['v3', 'v2', 'v1']);
  });
  it('reads version numbers only from names it made', () => {
    expect(versionOfDeployment('v12')).toBe(12);
    expect(versionOfDeployment('v1-old')).toBeNull();
  });
});
