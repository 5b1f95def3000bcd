/**
 * `sluice completion bash|zsh`: the scripts load in the real shells and complete what main.ts's table and
 * the help texts list; and short flags mean one thing in every command.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { commandWords } from '../../../src/cli/completion.js';
import { SUBCOMMANDS } from '../../../src/cli/main.js';
import { REPO_ROOT } from '../../helpers/broker-process.js';

const BIN = join(REPO_ROOT, 'bin', 'sluice.js');
const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

/** What bash's completion function offers for the words typed so far (the last one is being completed). */
function bashCompletes(script: string, words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    [
      '-c',
      `eval "$(cat)"; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _sluice; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { input: script, encoding: 'utf8' },
  );
  return out.split('\n').filter((w) => w !== '');
}

describe('shell completion', () => {
  const script = (shell: string) => execFileSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' });

  test('bash accepts the script and registers a completion for sluice', () => {
    const out = execFileSync(
      'bash',
      ['-c', `source <(${process.execPath} ${BIN} completion bash); complete -p sluice`],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(out.trim(), 'complete -F _sluice sluice');
  });

  test('bash completes every subcommand of main.ts, actions, options and option values', () => {
    const bash = script('bash');
    assert.deepEqual(bashCompletes(bash, ['sluice', '']).sort(), Object.keys(SUBCOMMANDS).sort());
    assert.deepEqual(bashCompletes(bash, ['sluice', 'topic', 'de']), ['describe', 'delete']);
    assert.deepEqual(bashCompletes(bash, ['sluice', 'topic', 'create', 'orders', '--if']), ['--if-not-exists']);
    assert.deepEqual(bashCompletes(bash, ['sluice', 'consume', '--format', '']), ['text', 'json']);
    assert.deepEqual(bashCompletes(bash, ['sluice', 'produce', '--acks', '']), ['0', '1', 'all']);
    assert.deepEqual(bashCompletes(bash, ['sluice', 'produce', '-t', '']), [], 'no flags where a topic name goes');
    assert.deepEqual(bashCompletes(bash, ['sluice', 'completion', '']), ['bash', 'zsh']);
  });

  test('zsh accepts the script and completes commands, actions and option values', {
    skip: !hasZsh && 'no zsh',
  }, () => {
    const zsh = script('zsh');
    const syntax = spawnSync('zsh', ['-n'], { input: zsh });
    assert.equal(syntax.status, 0, String(syntax.stderr));
    // zsh's completion widgets only run inside the line editor; stand-ins print what would be offered.
    const offered = (words: string[]) =>
      execFileSync(
        'zsh',
        [
          '-c',
          `compdef() {}; _describe() { print -rl -- \${(P)\${@[-1]}} }; compadd() { shift; print -rl -- "$@" }; _files() { print FILES }
           eval "$(cat)"; words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; _sluice`,
        ],
        { input: zsh, encoding: 'utf8' },
      )
        .split('\n')
        .filter((l) => l !== '');
    assert.ok(offered(['sluice', '']).includes('topic:create, list, describe, alter and delete topics'));
    assert.ok(offered(['sluice', 'group', '']).some((l) => l.startsWith('reset-offsets:')));
    assert.deepEqual(offered(['sluice', 'topic', 'list', '-f', '']), ['text', 'json']);
    assert.deepEqual(offered(['sluice', 'produce', '--file', '']), ['FILES']);
  });

  test('a short flag means the same long option in every command', async () => {
    const meaning = new Map<string, Set<string>>();
    for (const c of await commandWords()) {
      for (const o of c.options) {
        if (!o.short) continue;
        let longs = meaning.get(o.short);
        if (!longs) meaning.set(o.short, (longs = new Set()));
        longs.add(o.long);
      }
    }
    // Two pairs share a meaning: -p is the partition where records go, or the count where a topic is made or
    // grown (as in rpk); -n is a number of records (--num-records in perf, as Kafka's perf tools name it).
    meaning.get('-p')?.delete('--partitions');
    meaning.get('-n')?.delete('--num-records');
    for (const [short, longs] of meaning) assert.equal(longs.size, 1, `${short} means ${[...longs].join(' and ')}`);
    assert.deepEqual([...(meaning.get('-f') ?? [])], ['--format']);
    assert.deepEqual([...(meaning.get('-k') ?? [])], ['--key']);
    assert.deepEqual([...(meaning.get('-K') ?? [])], ['--key-separator']);
  });
});
