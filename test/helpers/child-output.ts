/**
 * What a server started as a child process prints, for the helpers that start one (`sluice start`, a Kafka
 * peer): its stdout and stderr kept as text, and a wait for the line saying it is ready.
 */
import type { ChildProcess } from 'node:child_process';

export interface ChildOutput {
  /** Everything the child printed so far, stdout and stderr as they arrived. */
  text(): string;
  /**
   * The first match of `pattern` in the output, waited for; rejects when the child exits first or after
   * `timeoutMs`, with the end of the output in the message. `name` names the child in those messages.
   */
  waitFor(pattern: RegExp, name: string, timeoutMs: number): Promise<RegExpExecArray>;
}

/** Starts keeping a child's output: call it right after spawn, before the child can print anything. */
export function collectOutput(child: ChildProcess): ChildOutput {
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  child.stderr!.on('data', (d: string) => (out += d));
  return {
    text: () => out,
    waitFor: (pattern, name, timeoutMs) =>
      new Promise((resolve, reject) => {
        const tail = () => out.slice(-4000);
        const done = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.off('exit', exited);
        };
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            done();
            resolve(m);
          }
        };
        const exited = (code: number | null) => {
          done();
          reject(new Error(`${name} exited with ${code} before printing ${pattern}:\n${tail()}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${tail()}`));
        }, timeoutMs);
        child.stdout!.on('data', check);
        child.once('exit', exited);
        check();
      }),
  };
}
