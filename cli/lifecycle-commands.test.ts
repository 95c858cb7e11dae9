import { describe, expect, it } from 'vitest';
import { parseOverrides } from './lifecycle-commands';

describe('parseOverrides (mlc audit reject --set)', () => {
  it('types each value as the param needs it', () => {
    expect(parseOverrides(['epochs=6', 'learningRate=0.0003', 'classWeights=true'])).toEqual({ epochs: 6, learningRate: 0.0003, classWeights: true });
  });

  it('names each refused pair as typed; an unknown name lists the params there are', () => {
    expect(() => parseOverrides(['epochs=notanumber'])).toThrow(/^--set epochs=notanumber: Invalid input: expected number, received string$/);
    const unknown = () => parseOverrides(['epochs=3', 'epoch=4']);
    expect(unknown).toThrow(
      /^--set epoch=4: epoch is not a training param \(did you mean epochs\?\)\n {2}the params: epochs, batchSize, learningRate, [a-zA-Z, ]+$/,
    );
    expect(() => parseOverrides(['lr=3'])).toThrow(/^--set lr=3: lr is not a training param\n {2}the params: /);
    expect(() => parseOverrides(['epochs'])).toThrow('--set epochs: use name=value, e.g. --set epochs=6');
  });
});
