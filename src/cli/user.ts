/**
 * `sluice user create|delete|list`: SASL/SCRAM users. Against a running broker (any Kafka-compatible one,
 * through AlterUserScramCredentials / DescribeUserScramCredentials, as kafka-configs.sh does), or, with
 * --data-dir, straight in a Sluice broker's credentials file: how the first user is made before a broker
 * whose listeners all ask for SASL starts (a running broker reads the file again when it changes).
 */
import { randomBytes } from 'node:crypto';
import { KafkaError } from '../client/errors.js';
import { CredentialStore } from '../network/sasl/credential-store.js';
import {
  credentialFromSaltedPassword,
  isScramMechanism,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MECHANISM_TYPES,
  SCRAM_MECHANISMS,
  SCRAM_MIN_ITERATIONS,
  type ScramMechanism,
  saltPassword,
  scramMechanismOfType,
} from '../network/sasl/scram.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { DescribeUserScramCredentialsApi } from '../protocol/generated/50-describe-user-scram-credentials.js';
import { AlterUserScramCredentialsApi } from '../protocol/generated/51-alter-user-scram-credentials.js';
import { FORMAT_OPTION, helpFor, int, outputFormat, parse, table, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';

const TARGET_HELP = `  --data-dir DIR                write the credentials file of a Sluice broker's data directory (log.dirs)
                                instead of asking a broker; works while the broker is stopped or running
${BOOTSTRAP_HELP}`;

const CREATE_HELP = `usage: sluice user create NAME --password PASSWORD [options]

Creates a SCRAM user, or changes its password. Only a salted form of the password is kept.

options:
  --password PASSWORD           the password (env SLUICE_USER_PASSWORD)
  -m, --mechanism MECHANISM     SCRAM-SHA-256 or SCRAM-SHA-512 (default SCRAM-SHA-512); may be repeated
  --iterations N                PBKDF2 iterations, ${SCRAM_MIN_ITERATIONS}..${SCRAM_MAX_ITERATIONS} (default ${SCRAM_MIN_ITERATIONS})
  -f, --format text|json        output format (default text)
${TARGET_HELP}

examples:
  sluice user create alice --password secret --data-dir ./data
  sluice user create alice --mechanism SCRAM-SHA-256 --mechanism SCRAM-SHA-512 --password secret
  sluice user create bob --password s3cret -b broker:9092 --iterations 8192`;

const DELETE_HELP = `usage: sluice user delete NAME [options]

Deletes a SCRAM user's credentials: of every mechanism, or of those named.

options:
  -m, --mechanism MECHANISM     only this mechanism's credential; may be repeated
  -f, --format text|json        output format (default text)
${TARGET_HELP}

examples:
  sluice user delete alice
  sluice user delete alice --mechanism SCRAM-SHA-256 --data-dir ./data`;

const LIST_HELP = `usage: sluice user list [NAME…] [options]

Lists SCRAM users with their mechanisms and iterations (never their credentials).

options:
  -f, --format text|json        output format (default text; json: one object per user)
${TARGET_HELP}

examples:
  sluice user list
  sluice user list alice --format json --data-dir ./data`;

export const USER_HELP = `usage: sluice user <action> [options]

Manages the SASL/SCRAM users of a broker.

actions:
  create   create a user or change its password
  delete   delete a user
  list     list users and their mechanisms

examples:
  sluice user create alice --password secret --data-dir ./data
  sluice user list`;

export const userHelp = (args: string[]) =>
  helpFor({ create: CREATE_HELP, delete: DELETE_HELP, list: LIST_HELP }, USER_HELP, args);

const TARGET_OPTIONS = { ...BOOTSTRAP_OPTIONS, 'data-dir': { type: 'string' }, ...FORMAT_OPTION } as const;

export async function runUser(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'create') return create(rest);
  if (action === 'delete') return remove(rest);
  if (action === 'list') return list(rest);
  if (action === undefined) throw new UsageError('missing action: create, delete or list');
  throw new UsageError(`unknown action "${action}": use create, delete or list`);
}

function mechanisms(values: string[] | undefined, fallback: ScramMechanism[]): ScramMechanism[] {
  if (values === undefined || values.length === 0) return fallback;
  return values.map((m) => {
    const name = m.toUpperCase();
    if (!isScramMechanism(name))
      throw new UsageError(`--mechanism must be ${SCRAM_MECHANISMS.join(' or ')}, got "${m}"`);
    return name;
  });
}

function oneName(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError('give exactly one user NAME');
  if (positionals[0] === '') throw new UsageError('the user name must not be empty');
  return positionals[0];
}

interface Outcome {
  user: string;
  outcome?: string;
  error?: string;
}

function report(format: 'text' | 'json', outcomes: Outcome[]): number {
  for (const o of outcomes) {
    if (format === 'json') console.log(JSON.stringify(o));
    else if (o.error !== undefined) console.error(`error: ${o.user}: ${o.error}`);
    else console.log(`${o.outcome}: ${o.user}`);
  }
  return outcomes.some((o) => o.error !== undefined) ? 1 : 0;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...TARGET_OPTIONS,
      password: { type: 'string' },
      mechanism: { type: 'string', short: 'm', multiple: true },
      iterations: { type: 'string' },
    },
    true,
  );
  const format = outputFormat(values.format);
  const user = oneName(positionals);
  const password = values.password ?? process.env.SLUICE_USER_PASSWORD;
  if (password === undefined || password === '') throw new UsageError('missing --password');
  const iterations =
    int(values.iterations, '--iterations', { min: SCRAM_MIN_ITERATIONS, max: SCRAM_MAX_ITERATIONS }) ??
    SCRAM_MIN_ITERATIONS;
  const chosen = mechanisms(values.mechanism, ['SCRAM-SHA-512']);
  // The client salts the password, as Kafka's admin client does: the broker never sees it.
  const upsertions = await Promise.all(
    chosen.map(async (mechanism) => {
      const salt = randomBytes(32);
      return { mechanism, salt, saltedPassword: await saltPassword(mechanism, password, salt, iterations) };
    }),
  );
  if (values['data-dir'] !== undefined) {
    const store = CredentialStore.inDataDir(values['data-dir']);
    await store.change(
      upsertions.map((u) => ({
        user,
        mechanism: u.mechanism,
        credential: credentialFromSaltedPassword(u.mechanism, u.saltedPassword, u.salt, iterations),
      })),
    );
    return report(format, [{ user, outcome: 'created' }]);
  }
  return withClient(values, async (client) => {
    const response = await client.send(AlterUserScramCredentialsApi, {
      deletions: [],
      upsertions: upsertions.map((u) => ({
        name: user,
        mechanism: SCRAM_MECHANISM_TYPES[u.mechanism],
        iterations,
        salt: u.salt,
        saltedPassword: u.saltedPassword,
      })),
    });
    return report(format, response.results.map(alterOutcome('created')));
  });
}

function alterOutcome(done: string) {
  return (r: { user: string; errorCode: number; errorMessage: string | null }): Outcome =>
    r.errorCode === ErrorCode.NONE
      ? { user: r.user, outcome: done }
      : { user: r.user, error: new KafkaError(r.errorCode, r.errorMessage ?? '').message };
}

async function remove(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...TARGET_OPTIONS, mechanism: { type: 'string', short: 'm', multiple: true } },
    true,
  );
  const format = outputFormat(values.format);
  const user = oneName(positionals);
  if (values['data-dir'] !== undefined) {
    const store = CredentialStore.inDataDir(values['data-dir']);
    await store.load();
    const have = SCRAM_MECHANISMS.filter((m) => store.get(user, m) !== undefined);
    const chosen = mechanisms(values.mechanism, have);
    if (chosen.length === 0 || chosen.some((m) => !have.includes(m)))
      return report(format, [{ user, error: 'Attempt to delete a user credential that does not exist' }]);
    await store.change(
      [],
      chosen.map((mechanism) => ({ user, mechanism })),
    );
    return report(format, [{ user, outcome: 'deleted' }]);
  }
  return withClient(values, async (client) => {
    let chosen = mechanisms(values.mechanism, []);
    if (chosen.length === 0) {
      const described = await client.send(DescribeUserScramCredentialsApi, { users: [{ name: user }] });
      const [result] = described.results;
      if (result === undefined || result.errorCode !== ErrorCode.NONE)
        return report(format, [
          { user, error: new KafkaError(result?.errorCode ?? -1, result?.errorMessage ?? '').message },
        ]);
      chosen = result.credentialInfos.map((c) => scramMechanismOfType(c.mechanism)).filter((m) => m !== undefined);
    }
    const response = await client.send(AlterUserScramCredentialsApi, {
      deletions: chosen.map((m) => ({ name: user, mechanism: SCRAM_MECHANISM_TYPES[m] })),
      upsertions: [],
    });
    return report(format, response.results.map(alterOutcome('deleted')));
  });
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, TARGET_OPTIONS, true);
  const format = outputFormat(values.format);
  let users: Array<{ user: string; credentials: Array<{ mechanism: string; iterations: number }>; error?: string }>;
  if (values['data-dir'] !== undefined) {
    const store = CredentialStore.inDataDir(values['data-dir']);
    await store.load();
    const all = store.list();
    users =
      positionals.length === 0
        ? all
        : positionals.map(
            (name) =>
              all.find((u) => u.user === name) ?? {
                user: name,
                credentials: [],
                error: `Attempt to describe a user credential that does not exist: ${name}`,
              },
          );
  } else {
    users = await withClient(values, async (client) => {
      const response = await client.send(DescribeUserScramCredentialsApi, {
        users: positionals.length === 0 ? null : positionals.map((name) => ({ name })),
      });
      if (response.errorCode !== ErrorCode.NONE)
        throw new KafkaError(response.errorCode, response.errorMessage ?? 'DescribeUserScramCredentials failed');
      return response.results.map((r) => ({
        user: r.user,
        credentials: r.credentialInfos.map((c) => ({
          mechanism: scramMechanismOfType(c.mechanism) ?? `mechanism ${c.mechanism}`,
          iterations: c.iterations,
        })),
        ...(r.errorCode === ErrorCode.NONE ? {} : { error: new KafkaError(r.errorCode, r.errorMessage ?? '').message }),
      }));
    });
  }
  if (format === 'json') for (const u of users) console.log(JSON.stringify(u));
  else {
    const ok = users.filter((u) => u.error === undefined);
    for (const u of users) if (u.error !== undefined) console.error(`error: ${u.user}: ${u.error}`);
    if (ok.length > 0)
      console.log(
        table(
          ['USER', 'MECHANISM', 'ITERATIONS'],
          ok.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, c.iterations])),
        ),
      );
  }
  return users.some((u) => u.error !== undefined) ? 1 : 0;
}
