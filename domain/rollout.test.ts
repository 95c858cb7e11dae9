import { describe, expect, it } from 'vitest';
import { deploymentsToPrune, trafficStep, versionOfDeployment } from './rollout';

describe('trafficStep', () => {
  it('gives a first deployment everything', () => {
    expect(trafficStep({}, 'version-1', 10)).toEqual({ 'version-1': 100 });
  });
  it('moves traffic from the live version step by step, summing to 100', () => {
    const live = { 'version-1': 100 };
    expect(trafficStep(live, 'version-2', 10)).toEqual({ 'version-1': 90, 'version-2': 10 });
    expect(trafficStep(live, 'version-2', 50)).toEqual({ 'version-1': 50, 'version-2': 50 });
    expect(trafficStep(live, 'version-2', 100)).toEqual({ 'version-1': 0, 'version-2': 100 });
  });
  it('shares the rest in proportion among several live deployments, by largest remainder', () => {
    const step = trafficStep({ 'version-1': 50, 'version-2': 25, 'version-3': 25 }, 'version-4', 33);
    expect(step).toEqual({ 'version-1': 33, 'version-2': 17, 'version-3': 17, 'version-4': 33 }); // 67 as 33.5 + 16.75 + 16.75
    expect(Object.values(step).reduce((a, b) => a + b, 0)).toBe(100);
  });
  it('refuses a percentage Azure would refuse', () => {
    expect(() => trafficStep({}, 'version-1', 12.5)).toThrow(/integer/);
    expect(() => trafficStep({}, 'version-1', 101)).toThrow(/integer/);
  });
});

describe('deploymentsToPrune', () => {
  it('keeps the live ones and the newest idle ones up to keep, ignores foreign names', () => {
    const names = ['version-1', 'version-2', 'version-3', 'version-4', 'version-5', 'blue', 'v6'];
    expect(deploymentsToPrune(names, { 'version-5': 100 }, 3)).toEqual(['version-2', 'version-1']);
    expect(deploymentsToPrune(names, { 'version-1': 100 }, 2)).toEqual(['version-4', 'version-3', 'version-2']);
    expect(deploymentsToPrune(names, { 'version-5': 90, 'version-4': 10 }, 1)).toEqual(['version-3', 'version-2', 'version-1']);
  });
  it('reads version numbers only from names it made', () => {
    expect(versionOfDeployment('version-12')).toBe(12);
    expect(versionOfDeployment('version-1-old')).toBeNull();
    expect(versionOfDeployment('v1')).toBeNull();
  });
});
