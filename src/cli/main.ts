/**
 * The `sluice` command: one command with subcommands. Each subcommand lives in its own file and exports
 * `run(args): Promise<number>` (the exit code) and its help text. A subcommand's file is imported only when
 * that subcommand runs: `sluice start` would otherwise load the client, the perf tools and their codecs,
 * which cost a broker a third of its start-up time.
 *
 * Exit codes: 0 success, 1 an error (one readable line on stderr), 2 a usage mistake.
 */
import { ConnectionError, KafkaError } from '../client/errors.js';
import { UsageError } from './args.js';

export interface Subcommand {
  /** Help text; a function receives the arguments, for commands with actions (`topic create --help`). */
  help: string | ((args: string[]) => string);
  run(args: string[]): Promise<number>;
}

/** Every subcommand; `sluice completion` derives its word lists from this table and the help texts. */
export const SUBCOMMANDS: Record<string, { summary: string; load(): Promise<Subcommand> }> = {
  start: {
    summary: 'run a broker',
    load: async () => {
      const m = await import('./start.js');
      return { help: m.START_HELP, run: m.runStart };
    },
  },
  topic: {
    summary: 'create, list, describe, alter and delete topics',
    load: async () => {
      const m = await import('./topic.js');
      return { help: m.topicHelp, run: m.runTopic };
    },
  },
  produce: {
    summary: 'send lines from stdin or a file as records',
    load: async () => {
      const m = await import('./produce.js');
      return { help: m.PRODUCE_HELP, run: m.runProduce };
    },
  },
  consume: {
    summary: 'print records of a topic',
    load: async () => {
      const m = await import('./consume.js');
      return { help: m.CONSUME_HELP, run: m.runConsume };
    },
  },
  group: {
    summary: 'list, describe, reset and delete consumer groups and their offsets',
    load: async () => {
      const m = await import('./group.js');
      return { help: m.groupHelp, run: m.runGroup };
    },
  },
  cluster: {
    summary: 'cluster id, controller, brokers and the APIs they serve',
    load: async () => {
      const m = await import('./cluster.js');
      return { help: m.clusterHelp, run: m.runCluster };
    },
  },
  broker: {
    summary: "a broker's settings and their sources",
    load: async () => {
      const m = await import('./broker.js');
      return { help: m.brokerHelp, run: m.runBroker };
    },
  },
  user: {
    summary: 'create, delete and list SASL/SCRAM users',
    load: async () => {
      const m = await import('./user.js');
      return { help: m.userHelp, run: m.runUser };
    },
  },
  quota: {
    summary: 'describe and alter client quotas of users, client ids and IP addresses',
    load: async () => {
      const m = await import('./quota.js');
      return { help: m.quotaHelp, run: m.runQuota };
    },
  },
  perf: {
    summary: 'load generators: produce or consume as fast as the broker allows',
    load: async () => {
      const m = await import('./perf.js');
      return { help: m.perfHelp, run: m.runPerf };
    },
  },
  completion: {
    summary: 'print a bash or zsh completion script',
    load: async () => {
      const m = await import('./completion.js');
      return { help: m.COMPLETION_HELP, run: m.runCompletion };
    },
  },
};

function usage(): string {
  const lines = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(10)} ${s.summary}`);
  return `usage: sluice <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'sluice <command> --help' for a command's options; 'sluice --version' prints the version.\nClient commands talk to any Kafka-compatible broker (-b host:port, default 127.0.0.1:9092).`;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log((await import('../version.js')).SLUICE_VERSION);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (name) {
      console.log(usage());
      return 0;
    }
    console.error(usage());
    return 2;
  }
  const entry = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!entry) {
    console.error(`sluice: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  const sub = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(typeof sub.help === 'function' ? sub.help(rest) : sub.help);
    return 0;
  }
  try {
    return await sub.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      // Point at the action's help (`sluice topic create --help`) when the first word is a known action.
      const action = rest[0] !== undefined && !rest[0].startsWith('-') ? rest[0] : undefined;
      const known = action !== undefined && typeof sub.help === 'function' && sub.help([action]) !== sub.help([]);
      const command = known ? `${name} ${action}` : name;
      console.error(`sluice ${command}: ${err.message}; see 'sluice ${command} --help'`);
      return 2;
    }
    console.error(`sluice ${name}: ${describeError(err)}`);
    return 1;
  }
}

/** One line for any error; a stack trace only for what looks like a bug (SLUICE_DEBUG=1 shows it always). */
function describeError(err: unknown): string {
  if (process.env.SLUICE_DEBUG) return (err as Error)?.stack ?? String(err);
  if (err instanceof KafkaError || err instanceof ConnectionError) return err.message;
  if (err instanceof Error) return err.message.split('\n')[0];
  return String(err);
}
