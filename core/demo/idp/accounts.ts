import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * DEMO ONLY: fictional citizens of the demo identity provider. No real person; the names are the
 * German specimen names. Each can log in with the shown demo password. One lives in Leipzig (the
 * Bürgerbüro's self-service issues her a Meldebescheinigung), one in Dresden (refused by the rule).
 */
export interface DemoAccount {
  username: string;
  /** Shown on the login page: these accounts protect nothing. */
  password: string;
  label: { de: string; en: string };
  claims: {
    sub: string;
    given_name: string;
    family_name: string;
    birthdate: string;
    /** OIDC Core §5.1.1 Address Claim: street and house number in `street_address`. */
    address: { street_address: string; postal_code: string; locality: string; country: string };
  };
}

export const DEMO_ACCOUNTS: DemoAccount[] = [
  {
    username: 'erika',
    password: 'demo-leipzig',
    label: { de: 'Erika Mustermann, wohnt in Leipzig', en: 'Erika Mustermann, lives in Leipzig' },
    claims: { sub: 'demo-0001', given_name: 'Erika', family_name: 'Mustermann', birthdate: '1990-04-01', address: { street_address: 'Markt 1', postal_code: '04109', locality: 'Leipzig', country: 'DE' } },
  },
  {
    username: 'max',
    password: 'demo-leipzig',
    label: { de: 'Max Mustermann, wohnt in Leipzig', en: 'Max Mustermann, lives in Leipzig' },
    claims: { sub: 'demo-0002', given_name: 'Max', family_name: 'Mustermann', birthdate: '2009-11-23', address: { street_address: 'Karl-Liebknecht-Straße 12a', postal_code: '04107', locality: 'Leipzig', country: 'DE' } },
  },
  {
    username: 'jonas',
    password: 'demo-dresden',
    label: { de: 'Jonas Beispiel, wohnt in Dresden', en: 'Jonas Beispiel, lives in Dresden' },
    claims: { sub: 'demo-0003', given_name: 'Jonas', family_name: 'Beispiel', birthdate: '1985-06-15', address: { street_address: 'Prager Straße 8', postal_code: '01069', locality: 'Dresden', country: 'DE' } },
  },
];

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The account for a username and password, compared in constant time. */
export function checkLogin(username: unknown, password: unknown): DemoAccount | undefined {
  if (typeof username !== 'string' || typeof password !== 'string' || username.length > 100 || password.length > 200) return undefined;
  const a = DEMO_ACCOUNTS.find((x) => x.username === username.trim().toLowerCase());
  return a && timingSafeEqual(digest(a.password), digest(password)) ? a : undefined;
}

export const accountBySub = (sub: string) => DEMO_ACCOUNTS.find((a) => a.claims.sub === sub);
