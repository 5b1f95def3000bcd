import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { int, keyValues, outputFormat, parse, table, toJson, UsageError } from '../../../src/cli/args.js';
import { parseAcks, parseCompression } from '../../../src/cli/bootstrap.js';
import { run } from '../../../src/cli/main.js';
import { Progress } from '../../../src/cli/progress.js';
import { quietly } from '../../helpers/console-capture.js';

describe('command-line helpers', () => {
  test('KEY=VALUE lists keep everything after the first = as the value', () => {
    assert.deepEqual(keyValues(['a=1', 'b=x=y', 'c='], '--config'), { a: '1', b: 'x=y', c: '' });
    assert.throws(() => keyValues(['novalue'], '--config'), UsageError);
  });

  test('integers outside their range are usage errors naming the flag', () => {
    assert.equal(int('7', '-p', { min: 1 }), 7);
    assert.equal(int(undefined, '-p'), undefined);
    assert.throws(() => int('0', '--partitions', { min: 1 }), /--partitions must be between 1/);
    assert.throws(() => int('1.5', '--partitions'), /expects an integer/);
  });

  test('--acks takes 0, 1, all or -1, and defaults to all', () => {
    assert.deepEqual(['0', '1', 'all', '-1', undefined].map(parseAcks), [0, 1, -1, -1, -1]);
    assert.throws(() => parseAcks('2'), /--acks must be 0, 1, all or -1, got "2"/);
  });

  test('--compression takes a codec name in any case, and defaults to none', () => {
    assert.deepEqual([undefined, 'none', 'GZIP', 'lz4'].map(parseCompression), [0, 0, 1, 3]);
    assert.throws(
      () => parseCompression('brotli'),
      (err: Error) => err instanceof UsageError && /^--compression: /.test(err.message),
    );
  });

  test('parse errors name the option as typed, in one line, with the nearest option for a typo', () => {
    const options = {
      topic: { type: 'string', short: 't' },
      partitions: { type: 'string', short: 'p' },
      offset: { type: 'string', short: 'o' },
      quiet: { type: 'boolean' },
    } as const;
    const message = (args: string[]) => {
      try {
        parse(args, options);
      } catch (err) {
        assert.ok(err instanceof UsageError, String(err));
        return err.message;
      }
      assert.fail(`${args.join(' ')} parsed`);
    };
    assert.equal(message(['--nope']), 'unknown option --nope');
    assert.equal(message(['-x']), 'unknown option -x');
    assert.equal(message(['--partitons', '3']), 'unknown option --partitons (did you mean --partitions?)');
    assert.equal(message(['--topic']), 'option --topic needs a value');
    assert.equal(message(['--quiet=yes']), 'option --quiet takes no value');
    assert.equal(message(['extra']), 'unexpected argument "extra"');
    assert.equal(
      message(['-o', '-5']),
      'option -o is followed by "-5": write --offset=-5 for a value that starts with "-"',
    );
    assert.equal(message(['-p', '-t', 'x']), 'option --partitions needs a value');
  });

  test('a usage mistake is one line on stderr that points at the help of the command and action', async () => {
    const topic = await quietly(() => run(['topic', 'create', 'x', '--no-such-flag']));
    assert.equal(topic.result, 2);
    assert.equal(topic.err, "sluice topic create: unknown option --no-such-flag; see 'sluice topic create --help'\n");
    const produce = await quietly(() => run(['produce', '-t', 'x', '--bogus']));
    assert.equal(produce.err, "sluice produce: unknown option --bogus; see 'sluice produce --help'\n");
    const action = await quietly(() => run(['topic', 'shuffle']));
    assert.match(action.err, /; see 'sluice topic --help'\n$/);
  });

  test('offsets in JSON are numbers with every digit, also above 2^53', () => {
    assert.equal(
      toJson({ offset: 9007199254740993n, lag: 0n, key: null, value: 'a"b', list: [1n, undefined], skip: undefined }),
      '{"offset":9007199254740993,"lag":0,"key":null,"value":"a\\"b","list":[1,null]}',
    );
    assert.equal(JSON.stringify(JSON.parse(toJson({ offset: 12n }))), '{"offset":12}');
  });

  test('--format takes text or json, and defaults to text', () => {
    assert.equal(outputFormat(undefined), 'text');
    assert.equal(outputFormat('json'), 'json');
    assert.throws(() => outputFormat('yaml'), /--format must be text or json, got "yaml"/);
  });

  test('tables align columns', () => {
    assert.equal(table(['A', 'LONGER'], [['xyz', 1]]), 'A    LONGER\nxyz  1');
  });

  test('progress off a terminal prints a line per quarter, and nothing for small jobs', () => {
    let written = '';
    const stream = { isTTY: false, write: (s: string) => (written += s) } as unknown as NodeJS.WriteStream;
    const big = new Progress('resetting', 4000, stream);
    for (let i = 1; i <= 4000; i++) big.update(i);
    big.finish();
    assert.deepEqual(written.trim().split('\n'), [
      'resetting: 1000/4000 (25%)',
      'resetting: 2000/4000 (50%)',
      'resetting: 3000/4000 (75%)',
      'resetting: 4000/4000 (100%)',
    ]);
    written = '';
    const small = new Progress('resetting', 10, stream);
    for (let i = 1; i <= 10; i++) small.update(i);
    assert.equal(written, '');
  });

  test('usage mistakes exit with 2, help with 0', async () => {
    assert.equal((await quietly(() => run([]))).result, 2);
    assert.equal((await quietly(() => run(['topic']))).result, 2);
    assert.equal((await quietly(() => run(['topic', 'shuffle']))).result, 2);
    assert.equal((await quietly(() => run(['consume']))).result, 2, 'no --topic');
    assert.equal((await quietly(() => run(['group', 'reset-offsets', 'g', '--topic', 't']))).result, 2, 'no --to-…');
    const help = await quietly(() => run(['group', 'describe', '--help']));
    assert.equal(help.result, 0);
    assert.match(help.out, /usage: sluice group describe/);
  });
});
