/**
 * Kafka's `sasl.jaas.config` value: one JAAS login module, its control flag and its options, e.g.
 *
 *   org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="secret";
 *
 * On a broker, the PLAIN module's `user_<name>="<password>"` options are the users PLAIN accepts.
 */

export interface JaasLoginModule {
  loginModule: string;
  controlFlag: 'required' | 'requisite' | 'sufficient' | 'optional';
  options: Map<string, string>;
}

const CONTROL_FLAGS = ['required', 'requisite', 'sufficient', 'optional'] as const;

/** Parses a `sasl.jaas.config` value; throws an Error naming what is wrong. */
export function parseJaasConfig(text: string): JaasLoginModule {
  let pos = 0;
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const word = (what: string): string => {
    skipSpace();
    const m = /^[A-Za-z0-9_.$-]+/.exec(text.slice(pos));
    if (!m) throw new Error(`expected ${what} at character ${pos + 1}`);
    pos += m[0].length;
    return m[0];
  };
  const loginModule = word('a login module class name');
  const flag = word('a control flag (required, requisite, sufficient or optional)').toLowerCase();
  if (!(CONTROL_FLAGS as readonly string[]).includes(flag))
    throw new Error(`"${flag}" is not a control flag: use required, requisite, sufficient or optional`);
  const options = new Map<string, string>();
  for (;;) {
    skipSpace();
    if (pos >= text.length) throw new Error('the login module must end with ";"');
    if (text[pos] === ';') {
      pos++;
      break;
    }
    const key = word('an option name');
    skipSpace();
    if (text[pos] !== '=') throw new Error(`expected "=" after option ${key}`);
    pos++;
    skipSpace();
    let value: string;
    if (text[pos] === '"') {
      const end = text.indexOf('"', pos + 1);
      if (end < 0) throw new Error(`unterminated quoted value of option ${key}`);
      value = text.slice(pos + 1, end);
      pos = end + 1;
    } else {
      value = word(`a value for option ${key}`);
    }
    options.set(key, value);
  }
  skipSpace();
  if (pos < text.length) throw new Error('sasl.jaas.config takes exactly one login module');
  return { loginModule, controlFlag: flag as JaasLoginModule['controlFlag'], options };
}

/** The `user_<name>="<password>"` options of a PLAIN login module: the users it accepts. */
export function plainUsers(module: JaasLoginModule): Map<string, string> {
  const users = new Map<string, string>();
  for (const [key, value] of module.options) if (key.startsWith('user_')) users.set(key.slice(5), value);
  return users;
}
