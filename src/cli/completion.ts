/**
 * `sluice completion bash|zsh`: prints a shell completion script. The words come from main.ts's table of
 * subcommands and from their help texts (an "actions:" section, option lines like "  -t, --topic TOPIC"),
 * so a new subcommand or option is completed as soon as its help lists it, with no second list to keep.
 */
import { parse, UsageError } from './args.js';
import { SUBCOMMANDS, type Subcommand } from './main.js';

export const COMPLETION_HELP = `usage: sluice completion bash|zsh

Prints a script that completes sluice's commands, actions, options and option values (formats, acks,
file names) in bash or zsh.

shells:
  bash       for bash 4 or later
  zsh        for zsh with compinit loaded

examples:
  source <(sluice completion bash)                        # this shell; add the line to ~/.bashrc to keep it
  sluice completion bash > /etc/bash_completion.d/sluice
  source <(sluice completion zsh)                         # after compinit, e.g. in ~/.zshrc
  sluice completion zsh > "\${fpath[1]}/_sluice"`;

export interface Option {
  short?: string;
  long: string;
  /** The placeholder after the option in its help ("TOPIC", "text|json"); none for a switch. */
  placeholder?: string;
  description: string;
}

/** What can follow `sluice CMD` or `sluice CMD ACTION`. */
export interface CommandWords {
  path: string;
  summary: string;
  options: Option[];
  actions: Array<{ name: string; summary: string }>;
}

const OPTION_LINE = /^ {2,}(?:(-[A-Za-z]), )?(--[a-z][\w-]*)(?: ([^\s]+))?(?: {2,}(.*))?$/;
const ACTION_LINE = /^ {2}([a-z][\w-]*) {2,}(.*)$/;

/** The options a help text lists; every command also takes -h/--help. */
export function optionsIn(help: string): Option[] {
  const options: Option[] = [];
  for (const line of help.split('\n')) {
    const m = OPTION_LINE.exec(line);
    if (!m || options.some((o) => o.long === m[2])) continue;
    options.push({ short: m[1], long: m[2], placeholder: m[3], description: (m[4] ?? '').trim() });
  }
  options.push({ short: '-h', long: '--help', description: 'show help' });
  return options;
}

/** The actions (or shells) a help text lists under "actions:" (or "shells:"). */
export function actionsIn(help: string): Array<{ name: string; summary: string }> {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => /^(actions|shells):$/.test(l));
  if (start < 0) return [];
  const actions: Array<{ name: string; summary: string }> = [];
  for (const line of lines.slice(start + 1)) {
    const m = ACTION_LINE.exec(line);
    if (!m) break;
    actions.push({ name: m[1], summary: m[2].trim() });
  }
  return actions;
}

/** The values an option's placeholder names: "text|json|FMT" offers text and json; FILE offers files. */
function valuesOf(placeholder: string): { words: string[]; files: boolean } {
  if (/FILE/.test(placeholder)) return { words: [], files: true };
  const words = placeholder.includes('|') ? placeholder.split('|').filter((w) => /^[a-z0-9-]+$/.test(w)) : [];
  return { words, files: false };
}

const helpText = (sub: Subcommand, args: string[]) => (typeof sub.help === 'function' ? sub.help(args) : sub.help);

/** Every command and command-action pair with the words that may follow it. */
export async function commandWords(): Promise<CommandWords[]> {
  const out: CommandWords[] = [];
  for (const [name, entry] of Object.entries(SUBCOMMANDS)) {
    const sub = await entry.load();
    const general = helpText(sub, []);
    const actions = actionsIn(general);
    out.push({ path: name, summary: entry.summary, options: optionsIn(general), actions });
    if (typeof sub.help !== 'function') continue;
    for (const action of actions) {
      out.push({
        path: `${name} ${action.name}`,
        summary: action.summary,
        options: optionsIn(sub.help([action.name])),
        actions: [],
      });
    }
  }
  return out;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Case patterns for an option after `path`: "'topic list -f'|'topic list --format'". */
const patterns = (path: string, o: Option) =>
  [o.short, o.long]
    .filter((f): f is string => f !== undefined)
    .map((f) => quote(`${path} ${f}`))
    .join('|');

export function bashScript(commands: CommandWords[]): string {
  const top = commands.filter((c) => !c.path.includes(' '));
  const valueCases: string[] = [];
  const optionCases: string[] = [];
  for (const c of commands) {
    const flags = c.options.flatMap((o) => (o.short ? [o.long, o.short] : [o.long]));
    optionCases.push(`    ${quote(c.path)}) words=${quote(flags.join(' '))} ;;`);
    for (const o of c.options) {
      if (!o.placeholder) continue;
      const v = valuesOf(o.placeholder);
      const reply = v.files
        ? 'COMPREPLY=($(compgen -f -- "$cur"))'
        : v.words.length > 0
          ? `COMPREPLY=($(compgen -W ${quote(v.words.join(' '))} -- "$cur"))`
          : 'COMPREPLY=()';
      valueCases.push(`    ${patterns(c.path, o)}) ${reply}; return ;;`);
    }
  }
  const actionCases = top
    .filter((c) => c.actions.length > 0)
    .map(
      (c) =>
        `    ${quote(c.path)})\n      if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=($(compgen -W ${quote(c.actions.map((a) => a.name).join(' '))} -- "$cur")); return; fi\n      cmd="$cmd \${COMP_WORDS[2]}" ;;`,
    );
  return `# bash completion for sluice, generated by \`sluice completion bash\`.
# Load it with: source <(sluice completion bash)
_sluice() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local cmd=\${COMP_WORDS[1]} words=''
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W ${quote(top.map((c) => c.path).join(' '))} -- "$cur"))
    return
  fi
  case $cmd in
${actionCases.join('\n')}
  esac
  case "$cmd $prev" in
${valueCases.join('\n')}
  esac
  case $cmd in
${optionCases.join('\n')}
  esac
  if [[ -z $cur || $cur == -* ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); fi
}
complete -F _sluice sluice
`;
}

/** zsh's _describe takes "word:description"; a colon inside the word or description is escaped. */
const described = (word: string, description: string) =>
  quote(`${word.replace(/:/g, '\\:')}:${description.replace(/:/g, '\\:')}`);

export function zshScript(commands: CommandWords[]): string {
  const top = commands.filter((c) => !c.path.includes(' '));
  const valueCases: string[] = [];
  const optionCases: string[] = [];
  for (const c of commands) {
    const items = c.options.flatMap((o) =>
      [o.long, ...(o.short ? [o.short] : [])].map((f) => described(f, o.description)),
    );
    optionCases.push(`    ${quote(c.path)}) items=(${items.join(' ')}) ;;`);
    for (const o of c.options) {
      if (!o.placeholder) continue;
      const v = valuesOf(o.placeholder);
      const reply = v.files ? '_files' : v.words.length > 0 ? `compadd -- ${v.words.join(' ')}` : ':';
      valueCases.push(`    ${patterns(c.path, o)}) ${reply}; return ;;`);
    }
  }
  const actionCases = top
    .filter((c) => c.actions.length > 0)
    .map(
      (c) =>
        `    ${quote(c.path)})\n      if (( CURRENT == 3 )); then\n        items=(${c.actions.map((a) => described(a.name, a.summary)).join(' ')})\n        _describe -t actions 'action' items; return\n      fi\n      cmd="$cmd \${words[3]}" ;;`,
    );
  return `#compdef sluice
# zsh completion for sluice, generated by \`sluice completion zsh\`.
# Load it with: source <(sluice completion zsh)   (after compinit), or save it as _sluice in your fpath.
_sluice() {
  local -a items
  if (( CURRENT == 2 )); then
    items=(${top.map((c) => described(c.path, c.summary)).join(' ')})
    _describe -t commands 'sluice command' items
    return
  fi
  local cmd=\${words[2]}
  case $cmd in
${actionCases.join('\n')}
  esac
  case "$cmd \${words[CURRENT-1]}" in
${valueCases.join('\n')}
  esac
  case $cmd in
${optionCases.join('\n')}
  esac
  (( \${#items} )) && _describe -t options 'option' items
}
if [[ \${funcstack[1]} == _sluice ]]; then _sluice "$@"; else compdef _sluice sluice; fi
`;
}

export async function runCompletion(args: string[]): Promise<number> {
  const { positionals } = parse(args, {}, true);
  const [shell] = positionals;
  if (positionals.length !== 1 || (shell !== 'bash' && shell !== 'zsh'))
    throw new UsageError('name one shell: bash or zsh');
  const commands = await commandWords();
  process.stdout.write(shell === 'bash' ? bashScript(commands) : zshScript(commands));
  return 0;
}
