/**
 * `sluice user`: SCRAM users made in a data directory before the broker starts log in; made through a
 * running broker (AlterUserScramCredentials) they are listed and deleted the same way.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../../../src/cli/main.js';
import { SaslHandshakeApi } from '../../../src/protocol/generated/17-sasl-handshake.js';
import { SaslAuthenticateApi } from '../../../src/protocol/generated/36-sasl-authenticate.js';
import { startBroker } from '../../../src/testing/start-broker.js';
import { quietly } from '../../helpers/console-capture.js';
import { RawClient } from '../../helpers/raw-client.js';
import { ScramClient } from '../../helpers/scram-client.js';

async function sluice(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { result, out, err } = await quietly(() => run(args));
  return { code: result, out, err };
}

async function logsIn(port: number, mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', user: string, password: string) {
  const client = await RawClient.connect(port);
  try {
    await client.request(SaslHandshakeApi, 1, { mechanism });
    const scram = new ScramClient(mechanism, user, password);
    const first = await client.request(SaslAuthenticateApi, 2, { authBytes: scram.first() });
    if (first.errorCode !== 0) return false;
    const last = await client.request(SaslAuthenticateApi, 2, { authBytes: scram.final(first.authBytes) });
    return last.errorCode === 0 && scram.verify(last.authBytes);
  } finally {
    client.socket.destroy();
  }
}

test('a user created in the data directory before start logs in, and the file holds no password', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-user-'));
  try {
    const created = await sluice('user', 'create', 'alice', '--password', 'pw-alice', '--data-dir', dir);
    assert.equal(created.code, 0, created.err);
    assert.equal(created.out, 'created: alice\n');
    const listed = await sluice('user', 'list', '--data-dir', dir, '-f', 'json');
    assert.deepEqual(JSON.parse(listed.out), {
      user: 'alice',
      credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }],
    });
    assert.ok(!(await readFile(join(dir, 'scram-credentials.json'), 'utf8')).includes('pw-alice'));

    const broker = await startBroker({
      storage: 'disk',
      dataDir: dir,
      config: { listeners: 'SASL_PLAINTEXT://127.0.0.1:0' },
    });
    try {
      assert.ok(await logsIn(broker.port, 'SCRAM-SHA-512', 'alice', 'pw-alice'));
      assert.ok(!(await logsIn(broker.port, 'SCRAM-SHA-512', 'alice', 'nope')));
      // A user added to the file while the broker runs can log in without a restart.
      await sluice('user', 'create', 'bob', '--password', 'pw-bob', '-m', 'SCRAM-SHA-256', '--data-dir', dir);
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await logsIn(broker.port, 'SCRAM-SHA-256', 'bob', 'pw-bob');
        if (!ok) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(ok, 'bob logs in once the broker read the changed file');
    } finally {
      await broker.stop();
    }
    const deleted = await sluice('user', 'delete', 'alice', '--data-dir', dir);
    assert.equal(deleted.code, 0, deleted.err);
    const missing = await sluice('user', 'delete', 'alice', '--data-dir', dir);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('users created, listed and deleted through a running broker', async () => {
  const broker = await startBroker({ config: { listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0' } });
  try {
    const b = ['-b', broker.bootstrap];
    const created = await sluice(
      'user',
      'create',
      'carol',
      '--password',
      'pw',
      '-m',
      'SCRAM-SHA-256',
      '-m',
      'SCRAM-SHA-512',
      ...b,
    );
    assert.equal(created.code, 0, created.err);
    const listed = await sluice('user', 'list', ...b);
    assert.match(listed.out, /carol\s+SCRAM-SHA-256\s+4096/);
    assert.match(listed.out, /carol\s+SCRAM-SHA-512\s+4096/);
    const saslPort = Number(broker.listeners.SASL_PLAINTEXT.split(':')[1]);
    assert.ok(await logsIn(saslPort, 'SCRAM-SHA-256', 'carol', 'pw'));
    const bad = await sluice('user', 'create', 'dave', '--password', 'pw', '--iterations', '100', ...b);
    assert.equal(bad.code, 2, 'too few iterations is a usage error');
    const deleted = await sluice('user', 'delete', 'carol', ...b);
    assert.equal(deleted.code, 0, deleted.err);
    assert.equal((await sluice('user', 'list', 'carol', ...b)).code, 1);
    assert.ok(!(await logsIn(saslPort, 'SCRAM-SHA-256', 'carol', 'pw')));
  } finally {
    await broker.stop();
  }
});
