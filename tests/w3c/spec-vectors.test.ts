import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { BUNDLED_CONTEXTS, CREDENTIALS_V2, CREDENTIALS_V2_SHA256, bundledContextDigest, bundledContextText, unknownContexts } from '../../core/formats/jsonld-contexts/index.ts';
import { EnvelopeError, parseEnvelope, signCredentialJose, VcJoseError, verifyJoseSecured } from '../../core/formats/vc-jose-cose/index.ts';
import { validateCredential } from '../../core/formats/vcdm/validate-credential.ts';
import { didJwk } from '../../core/formats/vc-jwt/vc-jwt-issuer.ts';
import type { Signer } from '../../core/crypto/jws.ts';

/**
 * Examples from the W3C Recommendations as data files (tests/vectors/w3c), each titled with its
 * spec section, run by one loop. `expect` says what the example must do here.
 */
interface Vector {
  title: string;
  source: string;
  document: Record<string, unknown>;
  expect: {
    credential?: 'conforms' | 'conforms-as-issue-input';
    roundtrip?: boolean;
    presentation?: 'plain';
    envelopedCredentials?: 'parsed' | 'unsupported-media-type';
    innerCredential?: 'conforms';
    envelope?: 'presentation';
    parse?: 'ok' | 'malformed';
    verify?: 'bad_alg' | 'bad_typ';
  };
}

const dir = new URL('../vectors/w3c/', import.meta.url);
const vectors: [string, Vector][] = [];
for (const sub of ['vcdm-2.0', 'vc-jose-cose']) {
  for (const f of readdirSync(new URL(`${sub}/`, dir)).sort()) vectors.push([`${sub}/${f}`, JSON.parse(readFileSync(new URL(`${sub}/${f}`, dir), 'utf8')) as Vector]);
}

const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const noKey = async (): Promise<JWK> => {
  throw new Error('no key for spec examples');
};

async function testSigner(): Promise<{ signer: Signer; did: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const did = didJwk(publicJwk);
  return { did, signer: { kid: `${did}#0`, alg: 'ES256', publicJwk, privateKey: privateKey as never } };
}

describe('W3C spec examples (VCDM 2.0, VC-JOSE-COSE)', () => {
  it('has the examples on disk', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(20);
    for (const [, v] of vectors) expect(v.title).toMatch(/^(VCDM 2\.0|VC-JOSE-COSE) §\d+(\.\d+)* /);
  });

  for (const [file, v] of vectors) {
    it(`${v.title} (${file})`, async () => {
      const e = v.expect;
      if (e.credential) {
        const r = validateCredential(v.document, { issuerOptional: e.credential === 'conforms-as-issue-input' });
        expect(r.version).toBe('2.0');
        // Every context in the specs' examples is one we bundle: nothing is fetched.
        expect(unknownContexts(r.extraContexts, '2.0')).toEqual([]);
        if (e.credential === 'conforms-as-issue-input') expect(() => validateCredential(v.document)).toThrow(/issuer is required/);
      }
      if (e.roundtrip) {
        const { signer, did } = await testSigner();
        const credential = { ...v.document, issuer: did };
        const jws = await signCredentialJose(signer, credential);
        const [h] = jws.split('.');
        expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'ES256', kid: `${did}#0`, typ: 'vc+jwt', cty: 'vc' });
        // VC-JOSE-COSE §3.1.1: the unsecured credential is the unencoded JWS payload.
        expect(payloadOf(jws)).toEqual(credential);
        const out = await verifyJoseSecured(jws, { kind: 'credential', now: Date.now(), resolveKey: async () => signer.publicJwk });
        expect(out.document).toEqual(credential);
        expect(out.controller).toBe(did);
      }
      if (e.presentation) {
        const vcs = v.document.verifiableCredential as unknown[];
        expect(Array.isArray(vcs)).toBe(true);
        for (const c of vcs) {
          if (e.envelopedCredentials === 'unsupported-media-type') {
            let err: unknown;
            try {
              parseEnvelope(c, 'credential');
            } catch (x) {
              err = x;
            }
            expect(err).toBeInstanceOf(EnvelopeError);
            expect((err as EnvelopeError).unsupported).toBe(true);
            continue;
          }
          const { jws, mediaType } = parseEnvelope(c, 'credential');
          expect(mediaType).toBe('application/vc+jwt');
          if (e.innerCredential) expect(validateCredential(payloadOf(jws)).version).toBe('2.0');
          if (e.verify) await expect(verifyJoseSecured(jws, { kind: 'credential', now: Date.now(), resolveKey: noKey })).rejects.toMatchObject({ reason: e.verify });
        }
      }
      if (e.envelope) {
        if (e.parse === 'malformed') {
          expect(() => parseEnvelope(v.document, 'presentation')).toThrow(EnvelopeError);
          return;
        }
        const { jws } = parseEnvelope(v.document, 'presentation');
        expect(payloadOf(jws)).toMatchObject({ '@context': expect.arrayContaining([CREDENTIALS_V2]), type: 'VerifiablePresentation' });
        if (e.verify) {
          const err = await verifyJoseSecured(jws, { kind: 'presentation', now: Date.now(), resolveKey: noKey }).catch((x: unknown) => x);
          expect(err).toBeInstanceOf(VcJoseError);
          expect((err as VcJoseError).reason).toBe(e.verify);
        }
      }
    });
  }
});

describe('bundled JSON-LD contexts', () => {
  it('VCDM 2.0 Appendix B.1: the bundled base context has the digest the Recommendation publishes', () => {
    expect(bundledContextDigest(CREDENTIALS_V2)).toBe(CREDENTIALS_V2_SHA256);
  });
  it('every bundled context is a JSON-LD context document', () => {
    for (const c of BUNDLED_CONTEXTS) {
      const doc = JSON.parse(bundledContextText(c.url)!) as Record<string, unknown>;
      expect(typeof doc['@context']).toBe('object');
      expect(createHash('sha256').update(bundledContextText(c.url)!).digest('hex')).toBe(bundledContextDigest(c.url));
    }
  });
  it('unknown contexts are named; inline contexts count as unknown', () => {
    expect(unknownContexts(['https://www.w3.org/ns/credentials/examples/v2'], '2.0')).toEqual([]);
    expect(unknownContexts(['https://example.org/ctx', { '@vocab': 'x' }], '2.0')).toEqual(['https://example.org/ctx', '(inline context object)']);
    // The 1.1 base context is not a 2.0 extra context.
    expect(unknownContexts(['https://www.w3.org/ns/credentials/examples/v2'], '1.1')).toEqual(['https://www.w3.org/ns/credentials/examples/v2']);
  });
});
