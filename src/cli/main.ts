/**
 * The `sluice` command: one command with subcommands. Each subcommand lives in its own file and exports
 * `run(args): Promise<number>` (the exit code) and its help text.
 */
import { runStart, START_HELP } from './start.js';

interface Subcommand {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  start: { summary: 'run a broker', help: START_HELP, run: runStart },
};

function usage(): string {
  const lines = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(10)} ${s.summary}`);
  return `usage: sluice <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'sluice <command> --help' for a command's options.`;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) {
    console.error(`sluice: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(sub.help);
    return 0;
  }
  try {
    return await sub.run(rest);
  } catch (err) {
    console.error(`sluice ${name}: ${(err as Error).message}`);
    return 1;
  }
}
