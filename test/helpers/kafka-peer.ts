/**
 * The Apache Kafka reference peer: a single-node KRaft broker (combined broker + controller) run from the
 * Maven Central jars that `tools/kafka-peer/install.sh` caches per machine. Conformance tests send it the
 * same requests as Sluice and compare the answers; the Java client tests and the benchmark use its jars.
 *
 * Tests that need the peer call `kafkaPeerOrSkip(t)`: on a machine without Java or the jars the test
 * skips with the reason, but under CI (`CI=true`, where `.ci/run` installs the peer) a missing peer fails,
 * so a broken install can never turn the conformance suite into a row of skips.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './broker-process.js';
import { collectOutput } from './child-output.js';

const execFileAsync = promisify(execFile);

/** The pinned Kafka release, read from the peer's pom so there is one place to change it. */
export const KAFKA_PEER_VERSION = (() => {
  const pom = readFileSync(join(REPO_ROOT, 'tools', 'kafka-peer', 'pom.xml'), 'utf8');
  return /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)![1]!;
})();

/** Where install.sh puts the jars (the same default as the script). */
export function kafkaPeerHome(): string {
  return process.env.SLUICE_KAFKA_HOME ?? join(homedir(), '.cache', 'sluice', `kafka-${KAFKA_PEER_VERSION}`);
}

/** The Java class path of Kafka's broker, tools and clients: `<home>/libs/*`. */
export function kafkaClasspath(): string {
  return join(kafkaPeerHome(), 'libs', '*');
}

/** Why the peer cannot run here, or null when it can. */
export function kafkaPeerUnavailable(): string | null {
  if (!existsSync(join(kafkaPeerHome(), 'libs', '.complete')))
    return `Apache Kafka ${KAFKA_PEER_VERSION} jars are not installed (run tools/kafka-peer/install.sh)`;
  if (!javaAvailable()) return 'java is not installed';
  return null;
}

let javaChecked: boolean | undefined;
function javaAvailable(): boolean {
  if (javaChecked === undefined) {
    javaChecked = (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, 'java')));
  }
  return javaChecked;
}

/**
 * For `test(name, async (t) => { if (kafkaPeerOrSkip(t)) return; … })`: true when the test was skipped.
 * Under CI a missing peer throws instead, so the suite fails rather than skipping its oracle.
 */
export function kafkaPeerOrSkip(t: { skip(message?: string): void }): boolean {
  const why = kafkaPeerUnavailable();
  if (why === null) return false;
  if (process.env.CI === 'true') throw new Error(`the Kafka peer is required under CI: ${why}`);
  t.skip(why);
  return true;
}

export interface KafkaPeer {
  port: number;
  /** The SASL_PLAINTEXT listener's port, with `saslListener`; 0 otherwise. */
  saslPort: number;
  bootstrap: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the broker printed so far. */
  output(): string;
  /** Kills the JVM and removes its data directory. */
  stop(): Promise<void>;
}

export interface KafkaPeerOptions {
  /** Extra broker settings (Kafka's names), e.g. `{ 'auto.create.topics.enable': false }`. */
  overrides?: Record<string, string | number | boolean>;
  /**
   * Adds a SASL_PLAINTEXT listener (its mechanisms and JAAS settings come in `overrides`, with Kafka's
   * `listener.name.sasl_plaintext.` names).
   */
  saslListener?: boolean;
  /** SCRAM users made when the storage is formatted, as StorageTool's --add-scram takes them. */
  addScram?: string[];
  /** JVM heap; 512 MiB is plenty for one test broker on this 2-core machine. */
  heap?: string;
  timeoutMs?: number;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Formats a fresh KRaft data directory and starts Kafka on free loopback ports; resolves once the broker
 * logged that it started (about 3 s on this machine, plus 2 s for the format step).
 */
export async function startKafkaPeer(options: KafkaPeerOptions = {}): Promise<KafkaPeer> {
  const why = kafkaPeerUnavailable();
  if (why) throw new Error(why);
  // The ports are picked free, then bound by the JVM seconds later: with test files starting peers side by
  // side, another process can take one in between. A start that fails is tried again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKafkaPeerOnce(options);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function startKafkaPeerOnce(options: KafkaPeerOptions): Promise<KafkaPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-peer-'));
  const dataDir = join(dir, 'data');
  const [port, controllerPort] = [await freePort(), await freePort()];
  const saslPort = options.saslListener ? await freePort() : 0;
  const sasl = saslPort === 0 ? '' : `,SASL_PLAINTEXT://127.0.0.1:${saslPort}`;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${sasl}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}${sasl}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': 1,
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // As Sluice's startBroker() does, so consumer groups form at once in tests.
    'group.initial.rebalance.delay.ms': 0,
    ...options.overrides,
  };
  const propertiesFile = join(dir, 'server.properties');
  writeFileSync(
    propertiesFile,
    `${Object.entries(settings)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  const log4j = join(dir, 'log4j2.yaml');
  writeFileSync(
    log4j,
    [
      'Configuration:',
      '  Appenders:',
      '    Console:',
      '      name: STDOUT',
      '      PatternLayout:',
      '        pattern: "[%d] %p %m (%c)%n"',
      '  Loggers:',
      '    Root:',
      '      level: INFO',
      '      AppenderRef:',
      '        - ref: STDOUT',
      '',
    ].join('\n'),
  );

  const cp = kafkaClasspath();
  const clusterId = (await execFileAsync('java', ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'])).stdout.trim();
  const scram = (options.addScram ?? []).flatMap((user) => ['--add-scram', user]);
  await execFileAsync('java', [
    '-cp',
    cp,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    propertiesFile,
    ...scram,
  ]);

  const heap = options.heap ?? '512m';
  const child = spawn(
    'java',
    [
      `-Xmx${heap}`,
      `-Xms${heap}`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4j}`,
      `-Dkafka.logs.dir=${join(dir, 'logs')}`,
      '-cp',
      cp,
      'kafka.Kafka',
      propertiesFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out = collectOutput(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await out.waitFor(/Kafka Server started/, 'Kafka', options.timeoutMs ?? 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    // The tail of a failed start is Kafka shutting down; its reason is in the ERROR lines before that.
    const errors = out
      .text()
      .split('\n')
      .filter((line) => / ERROR |Exception/.test(line))
      .slice(0, 10);
    throw new Error(`${(err as Error).message}\n--- Kafka's errors ---\n${errors.join('\n')}`);
  }
  return {
    port,
    saslPort,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    child,
    output: out.text,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
