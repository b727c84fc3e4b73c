import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SD_JWT_VC_FAILURE_CODES,
  verifySdJwt,
  type SdJwtVcFailureCode,
  type SdJwtVcVerifyResult,
  type VerifySdJwtVcArgs,
  verifySdJwtVc,
} from '../../core/formats/sd-jwt-vc/index.ts';
import {
  AUD,
  ISSUER_DID,
  NONCE,
  T0,
  T0_S,
  VCT,
  disclosure,
  es256Jws,
  holderKeys,
  hs256Jws,
  issue,
  issuerKeys,
  json64,
  otherKeys,
  present,
  unjson64,
  verifyArgs,
} from './sd-jwt-vc-fixtures.ts';

/**
 * One or more presentations per failure code, each built the way an attacker or a broken party
 * would build it. The last test checks that every code of the closed set is produced here.
 */

const digestOf = (s: string) => createHash('sha256').update(s, 'ascii').digest('base64url');
const HEADER = { alg: 'ES256', typ: 'dc+sd-jwt', kid: `${ISSUER_DID}#k1` };
const holderCnf = { jwk: { kty: 'EC', crv: 'P-256', x: holderKeys.publicJwk.x, y: holderKeys.publicJwk.y } };

function payload(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER_DID, iat: T0_S - 3600, exp: T0_S + 86400, vct: VCT, cnf: holderCnf, _sd_alg: 'sha-256', ...extra };
}

/** `<jws>~<d1>~…~` with an ES256 issuer signature over exactly the given header and payload. */
function craft(body: Record<string, unknown>, disclosures: string[] = [], header: Record<string, unknown> = HEADER, key = issuerKeys.privateKey): string {
  return [es256Jws(header, body, key), ...disclosures, ''].join('~');
}

/** Appends a KB-JWT; by default an honest one by the holder over `sdJwt`. */
function withKb(sdJwt: string, claims: Record<string, unknown> = {}, key = holderKeys.privateKey, header: Record<string, unknown> = { alg: 'ES256', typ: 'kb+jwt' }): string {
  return sdJwt + es256Jws(header, { iat: T0_S, aud: AUD, nonce: NONCE, sd_hash: digestOf(sdJwt), ...claims }, key);
}

const parts = (sdJwt: string) => {
  const all = sdJwt.split('~');
  return { jwt: all[0]!, disclosures: all.slice(1, -1), kb: all[all.length - 1]! };
};

/** Replaces the payload of a signed JWT, keeping header and signature. */
function swapPayload(jwt: string, change: (p: Record<string, unknown>) => void): string {
  const [h, p, s] = jwt.split('.');
  const body = unjson64(p!);
  change(body);
  return `${h}.${json64(body)}.${s}`;
}

const run = (sdJwt: unknown, overrides: Partial<VerifySdJwtVcArgs> = {}) => verifySdJwtVc(verifyArgs(sdJwt as string, overrides));
const noKb = { requireKeyBinding: false, expectedNonce: undefined, expectedAud: undefined } as const;

interface Case {
  code: SdJwtVcFailureCode;
  title: string;
  result: () => Promise<SdJwtVcVerifyResult>;
}

const cases: Case[] = [
  // --- malformed: RFC 9901 §4 serialization, JSON, required claims
  { code: 'malformed', title: 'a string that is not an SD-JWT', result: () => run('hello world') },
  { code: 'malformed', title: 'a non-string input', result: () => run(42) },
  { code: 'malformed', title: 'a bare JWT without the "~" an SD-JWT must end with (RFC 9901 §4)', result: async () => run(parts(await issue()).jwt, noKb) },
  { code: 'malformed', title: 'an empty Disclosure ("~~")', result: async () => run((await issue()).replace('~', '~~'), noKb) },
  { code: 'malformed', title: 'a last part that is neither empty nor a JWT', result: async () => run(`${await issue()}not-a-jwt`) },
  {
    code: 'malformed',
    title: 'an Issuer-signed JWT whose payload is not JSON',
    result: async () => run(`${json64(HEADER)}.${Buffer.from('{not json').toString('base64url')}.AAAA~`, noKb),
  },
  { code: 'malformed', title: 'a KB-JWT without iat (RFC 9901 §4.3)', result: async () => run(withKb(await present(await issue(), []).then(stripKb), { iat: undefined })) },
  { code: 'malformed', title: 'an SD-JWT VC without vct (SD-JWT VC §2.2.2.3)', result: async () => run(craft(payload({ vct: undefined })), noKb) },
  { code: 'malformed', title: 'an _sd that is not an array of strings (RFC 9901 §4.2.4.1)', result: async () => run(craft(payload({ _sd: 'abc' })), noKb) },
  { code: 'malformed', title: 'a status claim without status_list.idx', result: async () => run(craft(payload({ status: { status_list: { uri: 'https://s' } } })), noKb) },

  // --- unsupported_alg: RFC 9901 §7.1 2.1, §7.3 5.2; RFC 8725 §3.1/§3.2
  {
    code: 'unsupported_alg',
    title: 'alg none on the Issuer-signed JWT',
    result: async () => run(`${json64({ ...HEADER, alg: 'none' })}.${json64(payload())}.~`, noKb),
  },
  {
    code: 'unsupported_alg',
    title: 'an HS256 header, HMAC keyed with the issuer public key (algorithm confusion)',
    result: async () => run(`${hs256Jws(HEADER, payload(), Buffer.from(JSON.stringify(issuerKeys.publicJwk)))}~`, noKb),
  },
  { code: 'unsupported_alg', title: 'an ES384 header', result: async () => run(craft(payload(), [], { ...HEADER, alg: 'ES384' }), noKb) },
  { code: 'unsupported_alg', title: '_sd_alg sha-512 (RFC 9901 §7.1 2.5)', result: async () => run(craft(payload({ _sd_alg: 'sha-512' })), noKb) },
  {
    code: 'unsupported_alg',
    title: 'alg none on the KB-JWT',
    result: async () => {
      const sdJwt = craft(payload());
      return run(`${sdJwt}${json64({ alg: 'none', typ: 'kb+jwt' })}.${json64({ iat: T0_S, aud: AUD, nonce: NONCE, sd_hash: digestOf(sdJwt) })}.`);
    },
  },

  // --- wrong_typ: SD-JWT VC §2.2.1, RFC 9901 §7.3 5.4
  { code: 'wrong_typ', title: 'typ JWT', result: async () => run(craft(payload(), [], { ...HEADER, typ: 'JWT' }), noKb) },
  { code: 'wrong_typ', title: 'the former typ vc+sd-jwt', result: async () => run(craft(payload(), [], { ...HEADER, typ: 'vc+sd-jwt' }), noKb) },
  { code: 'wrong_typ', title: 'no typ', result: async () => run(craft(payload(), [], { alg: 'ES256', kid: HEADER.kid }), noKb) },
  { code: 'wrong_typ', title: 'a KB-JWT typed JWT', result: async () => run(withKb(craft(payload()), {}, holderKeys.privateKey, { alg: 'ES256', typ: 'JWT' })) },

  // --- issuer_key_unresolved: RFC 9901 §7.1 2.3, SD-JWT VC §2.5
  { code: 'issuer_key_unresolved', title: 'an issuer the key callback does not know', result: async () => run(craft(payload({ iss: 'did:web:evil.example' })), noKb) },
  {
    code: 'issuer_key_unresolved',
    title: 'a key callback returning an Ed25519 key',
    result: async () => run(craft(payload()), { ...noKb, issuerKey: async () => generateKeyPairSync('ed25519').publicKey }),
  },

  // --- invalid_signature: RFC 9901 §7.1 2.2
  {
    code: 'invalid_signature',
    title: 'a payload changed after signing (exp extended)',
    result: async () => {
      const p = parts(await present(await issue(), [['vorname']]));
      const jwt = swapPayload(p.jwt, (body) => (body['exp'] = T0_S + 100 * 365 * 86400));
      return run(withKb([jwt, ...p.disclosures, ''].join('~')));
    },
  },
  {
    code: 'invalid_signature',
    title: 'a plaintext claim added after signing',
    result: async () => {
      const p = parts(await issue());
      return run([swapPayload(p.jwt, (body) => (body['vorname'] = 'Mallory')), ...p.disclosures, ''].join('~'), noKb);
    },
  },
  { code: 'invalid_signature', title: 'signed by another key under the issuer kid', result: async () => run(craft(payload(), [], HEADER, otherKeys.privateKey), noKb) },

  // --- expired / not_yet_valid: RFC 9901 §7.1 step 6, RFC 7519 §4.1.4-4.1.6, with the injected clock
  { code: 'expired', title: 'exp two minutes ago (beyond 60 s skew)', result: async () => run(await present(await issue({ exp: T0_S - 120 }), [])) },
  { code: 'expired', title: 'exp passed at a later frozen clock', result: async () => run(await present(await issue(), []), { now: T0 + 400 * 86400_000 }) },
  { code: 'not_yet_valid', title: 'nbf ten minutes ahead', result: async () => run(await present(await issue({ nbf: T0_S + 600 }), [])) },
  { code: 'not_yet_valid', title: 'iat ten minutes ahead', result: async () => run(await present(await issue({ iat: T0_S + 600 }), [])) },

  // --- disclosure_invalid: RFC 9901 §4.2, §7.1 step 3; SD-JWT VC §2.2.2.3
  ...(() => {
    const invalid = (title: string, build: () => { body: Record<string, unknown>; disclosures: string[] }): Case => ({
      code: 'disclosure_invalid',
      title,
      result: async () => {
        const { body, disclosures } = build();
        return run(craft(payload(body), disclosures), noKb);
      },
    });
    const d = (...x: unknown[]) => disclosure(...x);
    return [
      invalid('an array-element (2-element) Disclosure referenced from _sd (§7.1 3.3.2.1)', () => {
        const x = d('salt-1', 'Erika');
        return { body: { _sd: [digestOf(x)] }, disclosures: [x] };
      }),
      invalid('an object-property (3-element) Disclosure referenced from an array (§7.1 3.3.3.1)', () => {
        const x = d('salt-1', 'sprache', 'de');
        return { body: { sprachen: [{ '...': digestOf(x) }] }, disclosures: [x] };
      }),
      invalid('a Disclosure named _sd (§7.1 3.3.2.2)', () => {
        const x = d('salt-1', '_sd', ['x']);
        return { body: { _sd: [digestOf(x)] }, disclosures: [x] };
      }),
      invalid('a Disclosure named ... (§7.1 3.3.2.2)', () => {
        const x = d('salt-1', '...', 'x');
        return { body: { _sd: [digestOf(x)] }, disclosures: [x] };
      }),
      invalid('a Disclosure overriding a plaintext claim of the same name (§7.1 3.3.2.3)', () => {
        const x = d('salt-1', 'vorname', 'Mallory');
        return { body: { vorname: 'Erika', _sd: [digestOf(x)] }, disclosures: [x] };
      }),
      invalid('a Disclosure that is the JSON string "abc", not an array', () => {
        const x = json64('abc');
        return { body: { _sd: [digestOf(x)] }, disclosures: [x] };
      }),
      invalid('a Disclosure whose salt is not a string (§4.2.1)', () => {
        const x = d(1234, 'vorname', 'Erika');
        return { body: { _sd: [digestOf(x)] }, disclosures: [x] };
      }),
      invalid('a Disclosure that is not JSON', () => {
        const x = Buffer.from('["salt", "a", ').toString('base64url');
        return { body: { _sd: [digestOf(x)] }, disclosures: [x] };
      }),
      invalid('a selectively disclosed exp (SD-JWT VC §2.2.2.3)', () => {
        const x = d('salt-1', 'exp', T0_S + 86400);
        return { body: { exp: undefined, _sd: [digestOf(x)] }, disclosures: [x] };
      }),
      invalid('a selectively disclosed sub-claim of status (SD-JWT VC §2.2.2.3)', () => {
        const x = d('salt-1', 'status_list', { idx: 1, uri: 'https://status.example/1' });
        return { body: { status: { _sd: [digestOf(x)] } }, disclosures: [x] };
      }),
    ];
  })(),

  // --- disclosure_unreferenced: RFC 9901 §7.1 step 5
  {
    code: 'disclosure_unreferenced',
    title: 'an extra Disclosure no digest references',
    result: async () => {
      const p = parts(await present(await issue(), [['vorname']]));
      return run(withKb([p.jwt, ...p.disclosures, disclosure('fresh-salt', 'religion', 'keine'), ''].join('~')));
    },
  },
  {
    code: 'disclosure_unreferenced',
    title: 'a tampered Disclosure (value changed, re-encoded)',
    result: async () => {
      const p = parts(await present(await issue(), [['vorname']]));
      const [salt, name] = JSON.parse(Buffer.from(p.disclosures[0]!, 'base64url').toString()) as [string, string];
      return run(withKb([p.jwt, disclosure(salt, name, 'Mallory'), ''].join('~')));
    },
  },
  {
    code: 'disclosure_unreferenced',
    title: 'the same Disclosure content re-encoded with other whitespace (digest is over the encoding, §4.2.1)',
    result: async () => {
      const p = parts(await present(await issue(), [['vorname']]));
      const content = JSON.parse(Buffer.from(p.disclosures[0]!, 'base64url').toString()) as unknown[];
      return run(withKb([p.jwt, Buffer.from(JSON.stringify(content, null, 1)).toString('base64url'), ''].join('~')));
    },
  },
  {
    code: 'disclosure_unreferenced',
    title: 'a nested Disclosure without the Disclosure of its parent object (§4.2.6)',
    result: async () => {
      const sdJwt = await issue();
      const full = parts(await present(sdJwt, [['anschrift', 'ort']]));
      const ort = full.disclosures.find((x) => Buffer.from(x, 'base64url').toString().includes('"ort"'))!;
      return run(withKb([full.jwt, ort, ''].join('~')));
    },
  },

  // --- disclosure_duplicate: RFC 9901 §4 (no Disclosure twice), §4.1 and §7.1 step 4 (no digest twice)
  {
    code: 'disclosure_duplicate',
    title: 'the same Disclosure sent twice',
    result: async () => {
      const p = parts(await present(await issue(), [['vorname']]));
      return run(withKb([p.jwt, p.disclosures[0]!, p.disclosures[0]!, ''].join('~')));
    },
  },
  {
    code: 'disclosure_duplicate',
    title: 'one digest twice in _sd',
    result: async () => {
      const x = disclosure('salt-1', 'vorname', 'Erika');
      return run(craft(payload({ _sd: [digestOf(x), digestOf(x)] }), [x]), noKb);
    },
  },
  {
    code: 'disclosure_duplicate',
    title: 'one digest both in _sd and nested (reached through two paths)',
    result: async () => {
      const x = disclosure('salt-1', 'ort', 'Leipzig');
      return run(craft(payload({ _sd: [digestOf(x)], anschrift: { _sd: [digestOf(x)] } }), [x]), noKb);
    },
  },
  {
    code: 'disclosure_duplicate',
    title: 'an undisclosed (or decoy) digest occurring twice',
    result: async () => run(craft(payload({ _sd: [digestOf('a'), digestOf('a')] })), noKb),
  },

  // --- holder_binding_missing: RFC 9901 §7.3 step 2, §7.3 5.1
  { code: 'holder_binding_missing', title: 'an SD-JWT without KB-JWT when Key Binding is required', result: async () => run(await issue()) },
  { code: 'holder_binding_missing', title: 'a KB-JWT for a credential without cnf', result: async () => run(withKb(craft(payload({ cnf: undefined })))) },

  // --- holder_binding_failed: RFC 9901 §7.3 5.3 (signed by the cnf key)
  { code: 'holder_binding_failed', title: 'a KB-JWT signed by another key', result: async () => run(withKb(stripKb(await present(await issue(), [['vorname']])), {}, otherKeys.privateKey)) },
  {
    code: 'holder_binding_failed',
    title: 'a KB-JWT whose signature was altered',
    result: async () => {
      const presentation = await present(await issue(), [['vorname']]);
      const sig = presentation.slice(presentation.lastIndexOf('.') + 1);
      const forged = Buffer.from(sig, 'base64url');
      forged[5] = forged[5]! ^ 0xff;
      return run(presentation.slice(0, presentation.lastIndexOf('.') + 1) + forged.toString('base64url'));
    },
  },
  {
    code: 'holder_binding_failed',
    title: 'a foreign KB-JWT also fails when Key Binding is not required (it is verified when present)',
    result: async () => run(withKb(stripKb(await present(await issue(), [])), {}, otherKeys.privateKey), { requireKeyBinding: false, expectedNonce: NONCE, expectedAud: AUD }),
  },

  // --- nonce_mismatch / audience_mismatch: RFC 9901 §7.3 5.6, §4.3
  { code: 'nonce_mismatch', title: 'a KB-JWT with another nonce', result: async () => run(await present(await issue(), [['vorname']], { nonce: 'replayed-nonce' })) },
  { code: 'nonce_mismatch', title: 'a KB-JWT when no nonce is expected', result: async () => run(await present(await issue(), []), noKb) },
  { code: 'audience_mismatch', title: 'a KB-JWT for another verifier', result: async () => run(await present(await issue(), [['vorname']], { aud: 'did:web:other-verifier.example' })) },
  { code: 'audience_mismatch', title: 'a KB-JWT whose aud is an array, not a single string (§4.3)', result: async () => run(withKb(stripKb(await present(await issue(), [])), { aud: [AUD] })) },

  // --- kb_stale: RFC 9901 §7.3 5.5 with a frozen clock
  { code: 'kb_stale', title: 'a KB-JWT from an hour ago', result: async () => run(await present(await issue(), [], { iat: T0_S - 3600 })) },
  { code: 'kb_stale', title: 'a KB-JWT from the future', result: async () => run(await present(await issue(), [], { iat: T0_S + 600 })) },
  { code: 'kb_stale', title: 'a KB-JWT older than a custom kbMaxAgeSeconds', result: async () => run(await present(await issue(), [], { iat: T0_S - 120 }), { kbMaxAgeSeconds: 30 }) },
  { code: 'kb_stale', title: 'a KB-JWT with its own exp in the past', result: async () => run(withKb(stripKb(await present(await issue(), [])), { exp: T0_S - 3600 })) },

  // --- sd_hash_mismatch: RFC 9901 §7.3 5.7, §4.3.1
  {
    code: 'sd_hash_mismatch',
    title: 'a Disclosure removed after the KB-JWT was signed',
    result: async () => {
      const p = parts(await present(await issue(), [['vorname'], ['nachname']]));
      return run([p.jwt, p.disclosures[0]!, p.kb].join('~'));
    },
  },
  {
    code: 'sd_hash_mismatch',
    title: 'a genuine issued Disclosure added after the KB-JWT was signed',
    result: async () => {
      const sdJwt = await issue();
      const issued = parts(sdJwt);
      const p = parts(await present(sdJwt, [['vorname']]));
      const extra = issued.disclosures.find((x) => !p.disclosures.includes(x) && Buffer.from(x, 'base64url').toString().includes('nachname'))!;
      return run([p.jwt, ...p.disclosures, extra, p.kb].join('~'));
    },
  },
  {
    code: 'sd_hash_mismatch',
    title: 'a KB-JWT taken from another presentation of the same credential',
    result: async () => {
      const sdJwt = await issue();
      const a = parts(await present(sdJwt, [['vorname']]));
      const b = parts(await present(sdJwt, [['geburtsdatum']]));
      return run([a.jwt, ...a.disclosures, b.kb].join('~'));
    },
  },
];

function stripKb(presentation: string): string {
  return presentation.slice(0, presentation.lastIndexOf('~') + 1);
}

const produced = new Set<SdJwtVcFailureCode>();

describe('verifySdJwtVc failure codes', () => {
  it.each(cases.map((c) => [c.code, c.title, c] as const))('%s: %s', async (code, _title, c) => {
    const result = await c.result();
    expect(result).toMatchObject({ ok: false, code });
    if (!result.ok) {
      expect(typeof result.message).toBe('string');
      produced.add(result.code);
    }
  });

  afterAll(() => {
    // Every code of the closed set has at least one case above.
    expect(SD_JWT_VC_FAILURE_CODES.filter((code) => !produced.has(code))).toEqual([]);
  });
});

describe('verifySdJwtVc boundaries that must pass', () => {
  it('accepts exp within the clock skew', async () => {
    expect((await run(await present(await issue({ exp: T0_S - 30 }), []))).ok).toBe(true);
  });
  it('accepts an SD-JWT without KB-JWT when Key Binding is not required', async () => {
    expect((await run(await issue(), noKb)).ok).toBe(true);
  });
  it('accepts decoys and undisclosed digests in arrays', async () => {
    const x = disclosure('salt-1', 'de');
    const result = await run(craft(payload({ sprachen: [{ '...': digestOf(x) }, { '...': digestOf('decoy') }, 'en'] }), [x]), noKb);
    expect(result).toMatchObject({ ok: true, claims: { sprachen: ['de', 'en'] }, disclosedPaths: [['sprachen', 0]] });
  });
  it('accepts a selectively disclosed iat (SD-JWT VC §2.2.2.3 allows it) and reports it', async () => {
    const x = disclosure('salt-1', 'iat', T0_S - 60);
    const result = await run(craft(payload({ iat: undefined, _sd: [digestOf(x)] }), [x]), noKb);
    expect(result).toMatchObject({ ok: true, iat: T0_S - 60, disclosedPaths: [['iat']] });
  });
  it('does not let a claim named __proto__ change the prototype of the result', async () => {
    const x = disclosure('salt-1', '__proto__', { polluted: true });
    const result = await run(craft(payload({ _sd: [digestOf(x)] }), [x]), noKb);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(Object.getPrototypeOf(result.claims)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(result.claims, '__proto__')?.value).toEqual({ polluted: true });
    }
  });
});

describe('verifySdJwtVc never throws for bad input', () => {
  it('returns a result for 400 random mutations of a valid presentation', async () => {
    const presentation = await present(await issue(), [['vorname'], ['anschrift', 'ort']]);
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const alphabet = 'ABCxyz019-_.~"{}';
    for (let i = 0; i < 400; i++) {
      const chars = [...presentation];
      const op = rand(3);
      const at = rand(chars.length);
      if (op === 0) chars[at] = alphabet[rand(alphabet.length)]!;
      else if (op === 1) chars.splice(at, 1 + rand(20));
      else chars.splice(at, 0, alphabet[rand(alphabet.length)]!);
      const result = await run(chars.join(''));
      expect(typeof result.ok).toBe('boolean');
      if (!result.ok) expect(SD_JWT_VC_FAILURE_CODES).toContain(result.code);
    }
  });
});

describe('verifySdJwt (any profile) checks validity claims of the processed payload (RFC 9901 §7.1 step 6)', () => {
  const generic = (sdJwt: string) =>
    verifySdJwt({ sdJwt, typ: 'example+sd-jwt', issuerKey: async () => issuerKeys.publicJwk, now: T0, requireKeyBinding: false });
  const header = { alg: 'ES256', typ: 'example+sd-jwt' };
  it('rejects a selectively disclosed exp that has passed', async () => {
    const x = disclosure('salt-1', 'exp', T0_S - 3600);
    expect(await generic(craft(payload({ exp: undefined, _sd: [digestOf(x)] }), [x], header))).toMatchObject({ ok: false, code: 'expired' });
  });
  it('rejects a selectively disclosed nbf in the future', async () => {
    const x = disclosure('salt-1', 'nbf', T0_S + 3600);
    expect(await generic(craft(payload({ _sd: [digestOf(x)] }), [x], header))).toMatchObject({ ok: false, code: 'not_yet_valid' });
  });
  it('accepts the same credential when that Disclosure is withheld', async () => {
    const x = disclosure('salt-1', 'exp', T0_S - 3600);
    expect(await generic(craft(payload({ exp: undefined, _sd: [digestOf(x)] }), [], header))).toMatchObject({ ok: true });
  });
});
