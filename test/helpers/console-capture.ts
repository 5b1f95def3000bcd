/** Runs `body` with console.log and console.error captured (the CLI's commands run in-process in tests). */
export async function quietly<T>(body: () => Promise<T>): Promise<{ result: T; out: string; err: string }> {
  const log = console.log;
  const error = console.error;
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => {
    out += `${a.join(' ')}\n`;
  };
  console.error = (...a: unknown[]) => {
    err += `${a.join(' ')}\n`;
  };
  try {
    return { result: await body(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}
