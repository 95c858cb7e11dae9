import { describe, expect, it } from 'vitest';
import { reconnectDelaySeconds } from './open';

describe('reconnectDelaySeconds (the registry client’s reconnect backoff)', () => {
  it('starts near 0.1 s, doubles, and never waits more than 2 s however many errors came before', () => {
    for (let i = 0; i < 200; i++) {
      expect(reconnectDelaySeconds(0)).toBeGreaterThanOrEqual(0.05);
      expect(reconnectDelaySeconds(0)).toBeLessThanOrEqual(0.1);
      expect(reconnectDelaySeconds(3)).toBeGreaterThanOrEqual(0.4);
      expect(reconnectDelaySeconds(3)).toBeLessThanOrEqual(0.8);
      // postgres.js's own would be 20 s here (3^10 / 100, capped).
      expect(reconnectDelaySeconds(10)).toBeLessThanOrEqual(2);
      expect(reconnectDelaySeconds(10)).toBeGreaterThanOrEqual(1);
    }
  });
});
