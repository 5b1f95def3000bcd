// Starts the Java side of the codec oracle (tools/codec-oracle/CodecOracle.java) against the jars of the
// Apache Kafka reference peer, compiling it first into a cache folder keyed by the source's hash.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

// This file runs as dist/test/conformance/codec-oracle-process.js, three folders below the repository root.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SOURCE = join(repoRoot, 'tools/codec-oracle/CodecOracle.java');
/** The Kafka release whose jars tools/kafka-peer/install.sh installs. */
const KAFKA_VERSION = '4.3.1';

function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sluice');
}

/** The folder of Kafka's jars: $SLUICE_KAFKA_HOME/libs, else where tools/kafka-peer/install.sh puts them. */
export function kafkaLibs(): string {
  const home = process.env.SLUICE_KAFKA_HOME || join(cacheRoot(), `kafka-${KAFKA_VERSION}`);
  return join(home, 'libs');
}

/** The major version of a JDK tool (`java`, `javac`), or 0 when it is missing. */
async function toolVersion(name: string): Promise<number> {
  try {
    const { stdout, stderr } = await run(name, ['-version']);
    const m = /(?:version "|javac )(\d+)/.exec(stdout + stderr);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Why the oracle cannot run here, or null when java, javac and Kafka's jars are all present. */
export async function unavailableReason(): Promise<string | null> {
  if (!existsSync(SOURCE)) return `${SOURCE} is missing`;
  // The oracle uses java.util.HexFormat (Java 17), and Kafka 4 needs 17 as well.
  if ((await toolVersion('java')) < 17 || (await toolVersion('javac')) < 17)
    return 'java and javac 17 or later are needed for the codec oracle; install a JDK (Debian: openjdk-17-jdk-headless)';
  const libs = kafkaLibs();
  const jars = existsSync(libs) ? await readdir(libs) : [];
  if (!jars.some((j) => j.startsWith('kafka-clients-')))
    return `Kafka's jars are not in ${libs}; run tools/kafka-peer/install.sh (or set SLUICE_KAFKA_HOME)`;
  return null;
}

/** Compiles the oracle once per source version; concurrent runs each compile aside and rename into place. */
async function compiled(libs: string): Promise<string> {
  const source = await readFile(SOURCE);
  const hash = createHash('sha256').update(source).update(libs).digest('hex').slice(0, 16);
  const dir = join(cacheRoot(), 'codec-oracle', hash);
  if (existsSync(join(dir, 'CodecOracle.class'))) return dir;
  const partial = `${dir}.partial-${process.pid}`;
  await mkdir(partial, { recursive: true });
  try {
    await run('javac', ['-nowarn', '-cp', join(libs, '*'), '-d', partial, SOURCE]);
    await rename(partial, dir).catch((err: NodeJS.ErrnoException) => {
      // Another run put its copy in place first; both are compiled from the same source.
      if (!existsSync(join(dir, 'CodecOracle.class'))) throw err;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return dir;
}

/** One line-oriented conversation with the Java process; answers come back in the order of the commands. */
export class CodecOracleProcess {
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly unread: string[] = [];
  private stderr = '';
  private exited: string | null = null;
  private readonly lines: Interface;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => this.deliver(line));
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('error', (err) => {
      this.exited = `err the Java oracle could not run: ${err.message}`;
      for (const w of this.waiting.splice(0)) w(this.exited);
    });
    child.on('exit', (code) => {
      this.exited = `err the Java oracle exited with ${code}: ${this.stderr.replace(/\s+/g, ' ')}`;
      for (const w of this.waiting.splice(0)) w(this.exited);
    });
  }

  private deliver(line: string): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(line);
    else this.unread.push(line);
  }

  private nextLine(): Promise<string> {
    const line = this.unread.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exited !== null) return Promise.resolve(this.exited);
    return new Promise((resolveLine) => this.waiting.push(resolveLine));
  }

  static async start(): Promise<CodecOracleProcess> {
    const libs = kafkaLibs();
    const classes = await compiled(libs);
    const child = spawn('java', ['-XX:TieredStopAtLevel=1', '-cp', `${classes}:${join(libs, '*')}`, 'CodecOracle'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new CodecOracleProcess(child);
  }

  /** Sends every command in one write and resolves with one answer line per command, in order. */
  ask(commands: string[]): Promise<string[]> {
    const answers = commands.map(() => this.nextLine());
    this.child.stdin.write(`${commands.join('\n')}\n`);
    return Promise.all(answers);
  }

  /** Sends one command whose answer is a list of lines closed by a line `end`. */
  async askList(command: string): Promise<string[]> {
    this.child.stdin.write(`${command}\n`);
    const out: string[] = [];
    for (;;) {
      const line = await this.nextLine();
      if (line === 'end') return out;
      if (line.startsWith('err ')) throw new Error(line);
      out.push(line);
    }
  }

  stop(): void {
    this.lines.close();
    this.child.stdin.end();
    this.child.kill();
  }
}
