// The commands --print-signal and --print-start print are pasted into a shell: whatever a reason
// holds, bash must hand `temporal` the exact workflow id and JSON mlc would have sent.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { signalCommand, startCommand } from './signing';

/** The words bash passes to `temporal` for `command`, with a shell function standing in for it. */
function wordsOf(command: string): string[] {
  const out = execFileSync('bash', ['-c', `temporal() { printf '%s\\0' "$@"; }; ${command}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

const reasons = ["it's over", 'rm -rf "$HOME" $(id) `id` ; echo pwned', 'line one\nline two', "'' \\' \\\\'", 'ไม่ใช้แล้ว 😀'];

describe('printed temporal commands', () => {
  it.each(reasons)('signal: bash passes the message through unchanged (%j)', (reason) => {
    const message = { actor: 'bob', reason, undeploy: true };
    const words = wordsOf(signalCommand("mlc-it's", 'stopRequest', message));
    expect(words).toEqual(['workflow', 'signal', '--workflow-id', "mlc-it's", '--name', 'stopRequest', '--input', JSON.stringify(message)]);
  });

  it.each(reasons)('start: bash passes the input through unchanged (%j)', (reason) => {
    const input = { model: 'thai-sentiment', request: { actor: 'bob', reason } };
    const words = wordsOf(startCommand('mlc-undeploy-thai-sentiment-1a2b3c4d', 'undeployModel', 'mlc-control', input));
    expect(words).toEqual([
      'workflow',
      'start',
      '--task-queue',
      'mlc-control',
      '--type',
      'undeployModel',
      '--workflow-id',
      'mlc-undeploy-thai-sentiment-1a2b3c4d',
      '--input',
      JSON.stringify(input),
    ]);
    expect(JSON.parse(words.at(-1)!)).toEqual(input);
  });
});
