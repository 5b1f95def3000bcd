/**
 * Java sources of the client tests (test/clients/java*), compiled once per source and Kafka version into the
 * per-machine cache, against the Kafka peer's jars (kafka-clients and its dependencies).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { KAFKA_PEER_VERSION, kafkaClasspath } from './kafka-peer.js';

const execFileAsync = promisify(execFile);
const compiled = new Map<string, Promise<string>>();

/**
 * The classes directory of `source` (a .java file), compiled on first use: `<cache>/<name>-<hash>`, where the
 * hash covers the source and the Kafka version. Compiled beside the final name and renamed, so a concurrent
 * run never sees half the classes.
 */
export function javaClasses(name: string, source: string): Promise<string> {
  let classes = compiled.get(source);
  if (!classes) {
    classes = compile(name, source);
    compiled.set(source, classes);
  }
  return classes;
}

async function compile(name: string, source: string): Promise<string> {
  const hash = createHash('sha256').update(KAFKA_PEER_VERSION).update(readFileSync(source)).digest('hex').slice(0, 12);
  const cache = process.env.SLUICE_CLIENTS_CACHE ?? join(homedir(), '.cache', 'sluice');
  const classes = join(cache, `${name}-${hash}`);
  const mainClass = `${basename(source, '.java')}.class`;
  if (existsSync(join(classes, mainClass))) return classes;
  const partial = `${classes}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  await execFileAsync('javac', ['-nowarn', '-cp', kafkaClasspath(), '-d', partial, source]);
  try {
    renameSync(partial, classes);
  } catch (err) {
    // Another run finished first with the same source: use its classes.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(classes, mainClass))) throw err;
  }
  return classes;
}

/** Why Java sources cannot be compiled here, or null when javac is on the PATH. */
export function javacMissing(): string | null {
  const found = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'javac')));
  return found ? null : 'javac is not installed (a JDK is needed to compile the Java client tests)';
}
