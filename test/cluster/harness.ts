/**
 * Several hosts on one machine for cluster tests: each host is a Linux network namespace with its own
 * address, joined to the others by a bridge, so etcd and each broker run as on separate machines and a
 * host's link can be cut and restored (Jepsen-style partitions).
 *
 *   namespace sluice-<pid>-<n>-hub      holds the bridge br0 and one veth end per host
 *   namespace sluice-<pid>-<n>-<host>   holds eth0 (the other veth end) with 10.213.<k>.<i>/24, and lo
 *
 * The addresses exist only inside these namespaces: the bridge has no address and lives in its own
 * namespace, so no traffic reaches the machine's own network or leaves it. Deleting the namespaces removes
 * the bridge and every veth pair. Everything is torn down by `teardown()`, and by an exit hook when a test
 * run dies before it (processes killed, namespaces deleted).
 *
 * Needs root and iproute2 (`ip netns`), and Debian's etcd-server for etcd (scripts/install-test-deps.sh).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;
export const SLUICE = join(REPO_ROOT, 'bin', 'sluice.js');
const PROBE = new URL('./probe.js', import.meta.url).pathname;

/** Why the harness cannot run here, or null when it can. */
export function harnessUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  if (spawnSync('etcd', ['--version']).status !== 0)
    return 'etcd is not installed (scripts/install-test-deps.sh installs Debian’s etcd-server)';
  const probe = `sluice-${process.pid}-probe`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.status !== 0) return `ip netns does not work here: ${(added.stderr || String(added.error)).trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

/** `describe`'s skip option: the reason to skip, except under CI, where a missing harness is a failure. */
export function skipUnlessHarness(): string | false {
  const reason = harnessUnavailable();
  if (reason && process.env.CI === 'true') throw new Error(`cluster tests cannot run in CI: ${reason}`);
  return reason ?? false;
}

export interface Host {
  name: string;
  namespace: string;
  address: string;
}

/** A process started in a host's namespace, with its output kept for assertions and failure reports. */
export class HostProcess {
  private text = '';
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly host: Host,
    readonly child: ChildProcess,
  ) {
    const add = (chunk: Buffer) => {
      this.text += chunk.toString();
      for (const w of this.waiters.splice(0)) w();
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  output(): string {
    return this.text;
  }

  /** Resolves once the output matches `pattern`; rejects if the process exits first or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.exited.then(() => (exited = true));
    for (;;) {
      const m = pattern.exec(this.text);
      if (m) return m;
      if (exited) throw new Error(`${this.host.name} exited before printing ${pattern}:\n${this.text.slice(-3000)}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${this.host.name} did not print ${pattern} in ${timeoutMs} ms:\n${this.text.slice(-3000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export interface BrokerOptions {
  nodeId: number;
  etcd: string[];
  sessionTimeoutMs: number;
  /** Data dir; a new temp dir by default. */
  dataDir?: string;
  rack?: string;
}

export interface ClusterBroker {
  nodeId: number;
  host: Host;
  bootstrap: string;
  dataDir: string;
  process: HostProcess;
}

let harnessCount = 0;

export class NetnsHarness {
  readonly hosts = new Map<string, Host>();
  private readonly processes = new Set<HostProcess>();
  private readonly hub: string;
  readonly dir: string;
  private tornDown = false;
  private readonly onExit = () => this.teardownSync();
  /** A test run stopped by a signal (the runner's timeout, Ctrl-C) tears down too, then dies of it. */
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.teardownSync();
    process.kill(process.pid, signal);
  };

  private constructor(readonly run: string) {
    this.hub = `${run}-hub`;
    this.dir = mkdtempSync(join(tmpdir(), `${run}-`));
    process.on('exit', this.onExit);
    process.once('SIGTERM', this.onSignal);
    process.once('SIGINT', this.onSignal);
  }

  /** Creates a namespace per host name, addresses 10.213.<k>.1, .2, … in the order given. */
  static create(hostNames: string[]): NetnsHarness {
    const n = harnessCount++;
    const harness = new NetnsHarness(`sluice-${process.pid}-${n}`);
    // The subnet only exists on this run's bridge; varying it keeps two runs' logs apart when read.
    const subnet = `10.213.${((process.pid + n) % 200) + 20}`;
    try {
      harness.ip('netns', 'add', harness.hub);
      harness.ip('-n', harness.hub, 'link', 'add', 'br0', 'type', 'bridge');
      harness.ip('-n', harness.hub, 'link', 'set', 'br0', 'up');
      hostNames.forEach((name, i) => {
        const host = { name, namespace: `${harness.run}-${name}`, address: `${subnet}.${i + 1}` };
        harness.ip('netns', 'add', host.namespace);
        harness.ip(
          'link',
          'add',
          'eth0',
          'netns',
          host.namespace,
          'type',
          'veth',
          'peer',
          'name',
          name,
          'netns',
          harness.hub,
        );
        harness.ip('-n', harness.hub, 'link', 'set', name, 'master', 'br0', 'up');
        harness.ip('-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
        harness.ip('-n', host.namespace, 'link', 'set', 'eth0', 'up');
        harness.ip('-n', host.namespace, 'link', 'set', 'lo', 'up');
        harness.hosts.set(name, host);
      });
    } catch (err) {
      harness.teardownSync();
      throw err;
    }
    return harness;
  }

  host(name: string): Host {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no host ${name}`);
    return host;
  }

  private ip(...args: string[]): void {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || String(r.error)).trim()}`);
  }

  /** Runs a command in a host's namespace. */
  spawn(hostName: string, command: string, args: string[]): HostProcess {
    const host = this.host(hostName);
    const child = spawn('ip', ['netns', 'exec', host.namespace, command, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const p = new HostProcess(host, child);
    this.processes.add(p);
    p.exited.then(() => this.processes.delete(p));
    return p;
  }

  /** A one-member etcd on the host's address, with short raft timings so leases expire on time. */
  async startEtcd(hostName: string): Promise<{ endpoint: string; process: HostProcess }> {
    const { address } = this.host(hostName);
    const dataDir = mkdtempSync(join(this.dir, `etcd-${hostName}-`));
    const process = this.spawn(hostName, 'etcd', [
      '--name',
      hostName,
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      `http://${address}:2379`,
      '--advertise-client-urls',
      `http://${address}:2379`,
      '--listen-peer-urls',
      `http://${address}:2380`,
      '--initial-advertise-peer-urls',
      `http://${address}:2380`,
      '--initial-cluster',
      `${hostName}=http://${address}:2380`,
      // etcd's lease TTL floor is 1.5 election timeouts: 500 ms lets a 1 s lease stand as asked.
      '--heartbeat-interval',
      '50',
      '--election-timeout',
      '500',
    ]);
    await process.waitFor(/ready to serve client requests/, 20_000);
    return { endpoint: `${address}:2379`, process };
  }

  /** `sluice start` in the host's namespace; resolves once the broker registered in etcd. */
  async startBroker(hostName: string, options: BrokerOptions): Promise<ClusterBroker> {
    const host = this.host(hostName);
    const dataDir = options.dataDir ?? mkdtempSync(join(this.dir, `data-${hostName}-`));
    const args = [
      SLUICE,
      'start',
      '--host',
      host.address,
      '--port',
      '9092',
      '--data-dir',
      dataDir,
      '--etcd',
      options.etcd.join(','),
      '--log-format',
      'json',
      '--override',
      `node.id=${options.nodeId}`,
      '--override',
      `broker.session.timeout.ms=${options.sessionTimeoutMs}`,
    ];
    if (options.rack) args.push('--override', `broker.rack=${options.rack}`);
    const process = this.spawn(hostName, globalThis.process.execPath, args);
    await process.waitFor(/"msg":"listening on /, 30_000);
    return { nodeId: options.nodeId, host, bootstrap: `${host.address}:9092`, dataDir, process };
  }

  /** A probe process in the host's namespace that asks brokers and etcd for what they see (probe.ts). */
  startProbe(hostName: string): Probe {
    return new Probe(this.spawn(hostName, process.execPath, [PROBE]));
  }

  /** Cuts the host off: its link goes down, so nothing reaches it and it reaches nothing. */
  cut(hostName: string): void {
    this.ip('-n', this.host(hostName).namespace, 'link', 'set', 'eth0', 'down');
  }

  /** Restores a cut host's link (its address and route come back with it). */
  restore(hostName: string): void {
    this.ip('-n', this.host(hostName).namespace, 'link', 'set', 'eth0', 'up');
  }

  async teardown(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.kill('SIGKILL')));
    this.teardownSync();
  }

  /** Kills what still runs and deletes the namespaces; safe to call twice, and from an exit hook. */
  private teardownSync(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    process.off('exit', this.onExit);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    for (const p of this.processes) p.child.kill('SIGKILL');
    for (const host of this.hosts.values()) spawnSync('ip', ['netns', 'del', host.namespace]);
    spawnSync('ip', ['netns', 'del', this.hub]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What a broker answers about the cluster, through Metadata and DescribeCluster. */
export interface BrokerView {
  metadata: {
    clusterId: string | null;
    controllerId: number;
    brokers: Array<{ nodeId: number; host: string; port: number; rack: string | null }>;
  };
  describeCluster: {
    clusterId: string;
    controllerId: number;
    brokers: Array<{ brokerId: number; host: string; port: number; rack: string | null }>;
  };
}

/** What etcd holds, as `sluice cluster status --format json` prints it. */
export interface EtcdView {
  clusterId: string | null;
  controllerId: number;
  brokers: Array<{ nodeId: number; brokerEpoch: string; host: string; port: number; rack: string | null }>;
  etcd: Array<{ endpoint: string; healthy: boolean }>;
}

/** Sends questions to the probe process as JSON lines, one answer line per question. */
export class Probe {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly process: HostProcess) {
    const stdout = process.child.stdout;
    if (!stdout) throw new Error('probe has no stdout');
    createInterface({ input: stdout }).on('line', (line) => {
      const answer = JSON.parse(line) as { id: number; result?: unknown; error?: string };
      const waiter = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (answer.error !== undefined) waiter?.reject(new Error(answer.error));
      else waiter?.resolve(answer.result);
    });
    process.exited.then(() => {
      for (const w of this.pending.values()) w.reject(new Error(`probe exited: ${process.output().slice(-2000)}`));
      this.pending.clear();
    });
  }

  private ask<T>(question: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.process.child.stdin?.write(`${JSON.stringify({ id, ...question })}\n`);
    });
  }

  /** Metadata and DescribeCluster asked of one broker. */
  describe(bootstrap: string): Promise<BrokerView> {
    return this.ask({ op: 'describe', bootstrap });
  }

  /** The cluster as etcd holds it. */
  etcd(endpoints: string[]): Promise<EtcdView> {
    return this.ask({ op: 'etcd', endpoints });
  }

  close(): Promise<number | null> {
    this.process.child.stdin?.end();
    return this.process.exited;
  }
}

/** Polls `read` until `done` holds of its value; returns the value and how long it took. */
export async function waitUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      last = await read();
      if (done(last)) return { value: last, ms: Date.now() - started };
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${what}: not reached in ${timeoutMs} ms; last seen ${JSON.stringify(last)}${lastError ? `, last error ${String(lastError)}` : ''}`,
  );
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
