import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type ClaimPath,
  type SdJwtVerifyResult,
  presentSdJwtVc,
  verifySdJwt,
  verifySdJwtVc,
} from '../../core/formats/sd-jwt-vc/index.ts';

/**
 * The published examples of RFC 9901 and of the SD-JWT VC draft (tests/vectors/sd-jwt*, see the
 * READMEs there), verified with the keys of their settings.yml, nonce 1234567890, their verifier
 * as `aud`, and a clock frozen ten seconds after the KB-JWTs' iat.
 */

const file = (path: string) => readFileSync(fileURLToPath(new URL(`../vectors/${path}`, import.meta.url)), 'utf8');
const compact = (path: string) => file(path).replace(/\s+/g, ''); // the .txt artifacts are wrapped at 68 columns
const json = (path: string) => JSON.parse(file(path)) as Record<string, unknown>;

// Transcribed from tests/vectors/sd-jwt*/settings.yml (checked against the files below).
const ISSUER_JWK = { kty: 'EC', crv: 'P-256', x: 'b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ', y: 'Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8' };
const HOLDER_JWK = { kty: 'EC', crv: 'P-256', x: 'TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc', y: 'ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ' };
const HOLDER_D = '5K5SCos8zf9zRemGGUl6yfok-_NiiryNZsvANWMhF-I';
const NONCE = '1234567890';
const KB_IAT = 1795641342; // 2026-11-25T21:15:42Z, in every kb_jwt_payload.json
const NOW = (KB_IAT + 10) * 1000;
const holderPrivateKey = createPrivateKey({ key: { ...HOLDER_JWK, d: HOLDER_D }, format: 'jwk' });
const issuerKey = async () => ISSUER_JWK;

/** Claims the generator adds to (or overrides in) user_claims. */
const GENERATED = ['iss', 'iat', 'exp', 'cnf'];

interface Vector {
  dir: string;
  title: string;
  /** KB-JWT `aud`, for the examples with Key Binding. */
  aud?: string;
  /** holder_disclosed_claims of specification.yml as claims path pointers. */
  disclose?: ClaimPath[];
  /** user_claims.json is valid JSON (not so for 03-pid, see its README). */
  userClaims?: boolean;
}

function expectHolderView(claims: Record<string, unknown>, userClaims: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(userClaims)) if (!GENERATED.includes(name)) expect(claims[name]).toEqual(value);
  for (const name of Object.keys(claims)) expect([...Object.keys(userClaims), ...GENERATED]).toContain(name);
}

function ok<T extends SdJwtVerifyResult>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result as Extract<T, { ok: true }>;
}

describe('vector settings', () => {
  it('the transcribed keys are those of settings.yml', () => {
    for (const settings of [file('sd-jwt/settings.yml'), file('sd-jwt-vc/settings.yml')]) {
      for (const value of [ISSUER_JWK.x, ISSUER_JWK.y, HOLDER_JWK.x, HOLDER_JWK.y, HOLDER_D, NONCE]) expect(settings).toContain(value);
    }
  });
});

// ---- SD-JWT VC (typ dc+sd-jwt): verifySdJwtVc -----------------------------------------------

const VC_VECTORS: Vector[] = [
  {
    dir: 'sd-jwt-vc/01',
    title: 'SD-JWT VC §2.3 Example (§2.3.1 Issuance, §2.3.2 Presentation with KB-JWT)',
    aud: 'https://example.com/verifier',
    disclose: [['address'], ['is_over_65']],
    userClaims: true,
  },
  { dir: 'sd-jwt-vc/02', title: 'SD-JWT VC §2.3.2 Presentation without Key Binding', userClaims: true },
  {
    dir: 'sd-jwt-vc/03-pid',
    title: 'SD-JWT VC Appendix A.1 Example Person Identification Data (PID) Credential',
    aud: 'https://example.com/verifier',
    disclose: [['nationalities', 0], ['age_equal_or_over', '18']],
  },
  {
    dir: 'sd-jwt/arf-pid',
    title: 'RFC 9901 Appendix A.3 SD-JWT-based Verifiable Credentials (SD-JWT VC)',
    aud: 'https://verifier.example.org',
    disclose: [['nationalities', 0], ['age_equal_or_over', '18']],
    userClaims: true,
  },
];

describe.each(VC_VECTORS.map((v) => [`${v.title} [${v.dir}]`, v] as const))('%s', (_title, v) => {
  const keyBinding = v.aud ? ({ expectedNonce: NONCE, expectedAud: v.aud } as const) : ({ requireKeyBinding: false } as const);

  it('the published presentation verifies to verified_contents.json', async () => {
    const result = ok(await verifySdJwtVc({ sdJwt: compact(`${v.dir}/sd_jwt_presentation.txt`), issuerKey, now: NOW, ...keyBinding }));
    expect(result.claims).toEqual(json(`${v.dir}/verified_contents.json`));
    expect(result.header['typ']).toBe('dc+sd-jwt');
    if (v.aud) {
      expect(result.keyBinding).toEqual(json(`${v.dir}/kb_jwt_payload.json`));
      expect(result.cnfJwk).toEqual(HOLDER_JWK);
    } else {
      expect(result.keyBinding).toBeUndefined();
    }
  });

  it('the issued SD-JWT verifies as the holder receives it and yields user_claims.json', async () => {
    const result = ok(await verifySdJwtVc({ sdJwt: compact(`${v.dir}/sd_jwt_issuance.txt`), issuerKey, now: NOW, requireKeyBinding: false }));
    if (v.userClaims) expectHolderView(result.claims, json(`${v.dir}/user_claims.json`));
    else expect(Object.keys(result.claims)).toEqual(expect.arrayContaining(Object.keys(json(`${v.dir}/verified_contents.json`))));
  });

  if (v.aud && v.disclose) {
    const { aud, disclose } = v;
    it('presentSdJwtVc on the issued SD-JWT, revealing holder_disclosed_claims, verifies to verified_contents.json', async () => {
      const sdJwt = await presentSdJwtVc({ sdJwt: compact(`${v.dir}/sd_jwt_issuance.txt`), disclose, holderKey: holderPrivateKey, aud, nonce: NONCE, iat: KB_IAT });
      const result = ok(await verifySdJwtVc({ sdJwt, issuerKey, now: NOW, expectedNonce: NONCE, expectedAud: aud }));
      expect(result.claims).toEqual(json(`${v.dir}/verified_contents.json`));
    });

    it('the published KB-JWT is rejected a day later, for another audience and for another nonce', async () => {
      const sdJwt = compact(`${v.dir}/sd_jwt_presentation.txt`);
      const args = { sdJwt, issuerKey, now: NOW, expectedNonce: NONCE, expectedAud: aud };
      expect(await verifySdJwtVc({ ...args, now: NOW + 86400_000 })).toMatchObject({ ok: false, code: 'kb_stale' });
      expect(await verifySdJwtVc({ ...args, expectedAud: 'https://other.example' })).toMatchObject({ ok: false, code: 'audience_mismatch' });
      expect(await verifySdJwtVc({ ...args, expectedNonce: '0987654321' })).toMatchObject({ ok: false, code: 'nonce_mismatch' });
    });
  } else {
    it('the presentation without KB-JWT is refused when Key Binding is required', async () => {
      const result = await verifySdJwtVc({ sdJwt: compact(`${v.dir}/sd_jwt_presentation.txt`), issuerKey, now: NOW, expectedNonce: NONCE, expectedAud: 'https://example.com/verifier' });
      expect(result).toMatchObject({ ok: false, code: 'holder_binding_missing' });
    });
  }
});

// ---- RFC 9901 examples (typ example+sd-jwt): the generic verifySdJwt ----------------------

const RFC_VECTORS: Vector[] = [
  {
    dir: 'sd-jwt/simple',
    title: 'RFC 9901 §5 Example SD-JWT (§5.1 Issuance, §5.2 Presentation)',
    aud: 'https://verifier.example.org',
    disclose: [['given_name'], ['family_name'], ['address'], ['nationalities', 0]],
    userClaims: true,
  },
  { dir: 'sd-jwt/address_only_flat', title: 'RFC 9901 §6.1 Example: Flat SD-JWT', userClaims: true },
  { dir: 'sd-jwt/address_only_structured', title: 'RFC 9901 §6.2 Example: Structured SD-JWT', userClaims: true },
  { dir: 'sd-jwt/address_only_structured_one_open', title: 'RFC 9901 §6.2 Example: Structured SD-JWT, one claim left open', userClaims: true },
  { dir: 'sd-jwt/address_only_recursive', title: 'RFC 9901 §6.3 Example: SD-JWT with Recursive Disclosures', userClaims: true },
  { dir: 'sd-jwt/simple_structured', title: 'RFC 9901 Appendix A.1 Simple Structured SD-JWT (with decoy digests)', userClaims: true },
  { dir: 'sd-jwt/complex_ekyc', title: 'RFC 9901 Appendix A.2 Complex Structured SD-JWT', userClaims: true },
  {
    dir: 'sd-jwt/jsonld',
    title: 'RFC 9901 Appendix A.4 W3C Verifiable Credentials Data Model v2.0',
    aud: 'https://verifier.example.org',
    disclose: [
      ['credentialSubject', 'type'],
      ['credentialSubject', 'dateOfVaccination'],
      ['credentialSubject', 'order'],
      ['credentialSubject', 'vaccine', 'type'],
      ['credentialSubject', 'vaccine', 'atcCode'],
      ['credentialSubject', 'vaccine', 'medicinalProductName'],
    ],
    userClaims: true,
  },
  {
    dir: 'sd-jwt/w3c-vc',
    title: 'RFC 9901 examples/w3c-vc (not in the RFC text)',
    aud: 'https://verifier.example.org',
    disclose: [['is_over_18'], ['given_name']],
    userClaims: true,
  },
  { dir: 'sd-jwt/w3c-vc_for_slide_deck', title: 'RFC 9901 examples/w3c-vc_for_slide_deck (not in the RFC text)', userClaims: true },
  { dir: 'sd-jwt/complex_eidas', title: 'RFC 9901 examples/complex_eidas (not in the RFC text)', userClaims: true },
  { dir: 'sd-jwt/complex_eidas_proposal', title: 'RFC 9901 examples/complex_eidas_proposal (not in the RFC text)', userClaims: true },
];

describe.each(RFC_VECTORS.map((v) => [`${v.title} [${v.dir}]`, v] as const))('%s', (_title, v) => {
  const typ = 'example+sd-jwt';
  const keyBinding = v.aud ? ({ expectedNonce: NONCE, expectedAud: v.aud } as const) : ({ requireKeyBinding: false } as const);

  it('the published presentation verifies to verified_contents.json', async () => {
    const result = ok(await verifySdJwt({ sdJwt: compact(`${v.dir}/sd_jwt_presentation.txt`), typ, issuerKey, now: NOW, ...keyBinding }));
    expect(result.claims).toEqual(json(`${v.dir}/verified_contents.json`));
    if (v.aud) expect(result.keyBinding).toEqual(json(`${v.dir}/kb_jwt_payload.json`));
  });

  it('the issued SD-JWT verifies as the holder receives it and yields user_claims.json', async () => {
    const result = ok(await verifySdJwt({ sdJwt: compact(`${v.dir}/sd_jwt_issuance.txt`), typ, issuerKey, now: NOW, requireKeyBinding: false }));
    expectHolderView(result.claims, json(`${v.dir}/user_claims.json`));
  });

  it('is refused by verifySdJwtVc: typ example+sd-jwt is not dc+sd-jwt', async () => {
    const result = await verifySdJwtVc({ sdJwt: compact(`${v.dir}/sd_jwt_presentation.txt`), issuerKey, now: NOW, requireKeyBinding: false });
    expect(result).toMatchObject({ ok: false, code: 'wrong_typ' });
  });

  if (v.aud && v.disclose) {
    const { aud, disclose } = v;
    it('presentSdJwtVc on the issued SD-JWT, revealing holder_disclosed_claims, verifies to verified_contents.json', async () => {
      const sdJwt = await presentSdJwtVc({ sdJwt: compact(`${v.dir}/sd_jwt_issuance.txt`), disclose, holderKey: holderPrivateKey, aud, nonce: NONCE, iat: KB_IAT });
      const result = ok(await verifySdJwt({ sdJwt, typ, issuerKey, now: NOW, expectedNonce: NONCE, expectedAud: aud }));
      expect(result.claims).toEqual(json(`${v.dir}/verified_contents.json`));
    });
  }
});
