import { ConfigError } from './config-error.ts';

/**
 * Production refuses weak and reused secrets (issue 18). The estimate is deliberately simple and
 * errs on the side of refusing values a person typed: a secret from `openssl rand -hex 32`,
 * `openssl rand -base64 32` or the demo generator passes, `aaaa…`, `0000…`, `abab…`,
 * `0123456789abcdef` repeated, `abcdef…` runs and short values do not.
 *
 * Messages name the variable and never the value (nor a part of it).
 */

/** Least estimated strength of a production secret (NIST SP 800-131A: 128-bit security). */
export const MIN_SECRET_BITS = 128;

/** Character classes a secret's characters are counted against, narrowest first. */
const CLASSES: [RegExp, number][] = [
  [/^[0-9]+$/, 10],
  [/^[0-9a-f]+$/, 16],
  [/^[0-9A-F]+$/, 16],
  [/^[a-z]+$/, 26],
  [/^[A-Z]+$/, 26],
  [/^[0-9a-z]+$/, 36],
  [/^[0-9A-Z]+$/, 36],
  [/^[0-9A-Za-z]+$/, 62],
];

/** Why a secret is weak, or undefined. `bits` is the length times log2 of its character class. */
export function secretWeakness(value: string): string | undefined {
  const n = value.length;
  const alphabet = CLASSES.find(([re]) => re.test(value))?.[1] ?? 64;
  const bits = Math.floor(n * Math.log2(alphabet));
  if (bits < MIN_SECRET_BITS) return `is too short for its characters (about ${bits} bits, at least ${MIN_SECRET_BITS} needed)`;
  // A random value of this length uses many different characters; a typed one often does not.
  const distinct = new Set(value).size;
  if (distinct < Math.min(8, alphabet)) return `uses only ${distinct} different characters`;
  if (repeats(value)) return 'is a repeated pattern';
  if (runs(value)) return 'is mostly a run of consecutive characters (abc…, 123…)';
  // Empirical entropy of the characters as drawn, per character, against the most a value of this
  // length and alphabet can show: catches values dominated by a few characters. Relative, not an
  // absolute number of bits: 32 random hex digits show 2.87 bits per character at the lowest in
  // 200,000 draws (of at most 4), so an absolute 96-bit floor refused about one in 8,000 of them.
  if (shannon(value) < 0.5 * Math.log2(Math.min(alphabet, n))) return 'is dominated by a few characters';
  return undefined;
}

/** Whether `s` is a shorter block repeated (aaaa, abab, 0123456789abcdef0123…), a trailing partial block allowed. */
function repeats(s: string): boolean {
  for (let p = 1; p <= s.length / 2; p++) {
    let ok = true;
    for (let i = p; i < s.length && ok; i++) ok = s[i] === s[i - p];
    if (ok) return true;
  }
  return false;
}

/** Whether at least half of the neighbouring characters step by the same amount as the pair before (abcd, 9876, aaaa). */
function runs(s: string): boolean {
  let same = 0;
  for (let i = 2; i < s.length; i++) if (s.charCodeAt(i) - s.charCodeAt(i - 1) === s.charCodeAt(i - 1) - s.charCodeAt(i - 2)) same++;
  return s.length > 2 && same >= (s.length - 2) / 2;
}

/** Shannon entropy in bits per character of the value's own character frequencies. */
function shannon(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const k of counts.values()) h -= (k / s.length) * Math.log2(k / s.length);
  return h;
}

const ADMIN_TOKENS = ['REGISTRY_ADMIN_TOKEN', 'ISSUER_ADMIN_TOKEN', 'VERIFIER_ADMIN_TOKEN'] as const;

/**
 * Production checks of the secrets a service sees: its KEY_ENCRYPTION_SECRET and its own admin token
 * must be strong, and no two of the secrets in its environment may be equal (each service has its
 * own token, distinct from the key secret and from the other services' tokens when those are set in
 * the same environment). Compared case-insensitively, so an upper-cased hex secret reused as a
 * token counts as the same.
 */
export function checkProductionSecrets(env: NodeJS.ProcessEnv, own: { secret: string; tokenName: string | undefined }): void {
  const weakSecret = secretWeakness(own.secret);
  if (weakSecret) throw new ConfigError(`KEY_ENCRYPTION_SECRET ${weakSecret}; generate one with: openssl rand -hex 32`);
  const token = own.tokenName ? env[own.tokenName] : undefined;
  if (own.tokenName && token !== undefined) {
    const weak = secretWeakness(token);
    if (weak) throw new ConfigError(`${own.tokenName} ${weak}; generate one with: openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`);
    if (token.toLowerCase() === own.secret.toLowerCase()) throw new ConfigError(`${own.tokenName} must differ from KEY_ENCRYPTION_SECRET`);
  }
  for (const other of ADMIN_TOKENS) {
    const value = env[other];
    if (!value || other === own.tokenName) continue;
    if (value.toLowerCase() === own.secret.toLowerCase()) throw new ConfigError(`${other} must differ from KEY_ENCRYPTION_SECRET`);
    if (own.tokenName && token !== undefined && value.toLowerCase() === token.toLowerCase()) throw new ConfigError(`${own.tokenName} must differ from ${other}: each service needs its own admin token`);
  }
}
