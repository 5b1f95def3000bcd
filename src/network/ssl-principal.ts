/**
 * The principal of a TLS client, as Kafka's DefaultKafkaPrincipalBuilder makes it: the certificate's subject
 * in RFC 2253 form (`CN=alice,OU=eng,O=example,C=US`, most specific first), passed through
 * `ssl.principal.mapping.rules`: `DEFAULT` keeps the subject, `RULE:pattern/replacement/[LU]` maps a subject
 * that the pattern matches whole, optionally lower- or upper-cased. The first rule that applies wins.
 */
import type { X509Certificate } from 'node:crypto';

export interface PrincipalMappingRule {
  /** Null for DEFAULT. */
  pattern: RegExp | null;
  replacement: string;
  caseChange: '' | 'L' | 'U';
}

/** One rule, then optional commas: how Kafka's SslPrincipalMapper cuts the setting. */
const RULE = /^\s*(?:(DEFAULT)|RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU]?))\s*(?:,\s*|$)/;

/** Parses `ssl.principal.mapping.rules`; throws an Error naming the rule that does not parse. */
export function parsePrincipalMappingRules(text: string): PrincipalMappingRule[] {
  const rules: PrincipalMappingRule[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    const m = RULE.exec(rest);
    if (!m) throw new Error(`invalid rule "${rest.split(',')[0]}": expected DEFAULT or RULE:pattern/replacement/[LU]`);
    if (m[1]) rules.push({ pattern: null, replacement: '', caseChange: '' });
    else {
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${m[2]})$`);
      } catch (err) {
        throw new Error(`invalid pattern in rule "RULE:${m[2]}/${m[3]}/${m[4]}": ${(err as Error).message}`);
      }
      rules.push({ pattern, replacement: m[3], caseChange: m[4] as '' | 'L' | 'U' });
    }
    rest = rest.slice(m[0].length);
  }
  return rules;
}

/** The principal name for a subject, or null when no rule applies (Kafka then refuses the connection). */
export function mapPrincipalName(rules: readonly PrincipalMappingRule[], distinguishedName: string): string | null {
  for (const rule of rules) {
    if (rule.pattern === null) return distinguishedName;
    if (!rule.pattern.test(distinguishedName)) continue;
    // JavaScript's $1 back references in the replacement are Java's too.
    const name = distinguishedName.replace(rule.pattern, rule.replacement);
    return rule.caseChange === 'L' ? name.toLowerCase() : rule.caseChange === 'U' ? name.toUpperCase() : name;
  }
  return null;
}

/**
 * The subject of a certificate in RFC 2253 form. Node lists the subject's attributes one per line, issuer
 * order (`C=US` first) and already escaped as RFC 2253 asks; RFC 2253 writes them in reverse order.
 */
export function distinguishedName(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).reverse().join(',');
}
