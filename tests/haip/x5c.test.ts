import { describe, expect, it, beforeAll } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import type { Resolver } from 'did-resolver';
import { buildDidDocument } from '../../core/did/did-web.ts';
import { createDidResolver } from '../../core/did/resolver.ts';
import { issueSdJwtVc, presentSdJwtVc } from '../../core/formats/sd-jwt-vc/index.ts';
import type { StatusListClient } from '../../core/status-list/status-list-client.ts';
import type { CityCa } from '../../core/x509/city-ca.ts';
import { issueLeafCertificate, issueOfficeCertificate } from '../../core/x509/issue-certificate.ts';
import type { x509 } from '../../core/x509/pem.ts';
import { validateChain } from '../../core/x509/validate-chain.ts';
import { checkSdJwtPresentation } from '../../verifier/verify-sd-jwt-presentation.ts';
import { CARD, fakeRegistry } from '../verifier/fake-registry.ts';
import { demoCa, lookAlikeCa, operatorIntermediate, p256Signer } from './haip-fixtures.ts';

/**
 * HAIP issuer certificates (issue 17): an SD-JWT VC whose header carries `x5c` (SD-JWT VC §2.5
 * "Inline X.509 Certificates") is verified with the key of the end-entity certificate once its chain
 * validates to a city CA the verifier trusts; the certificate must name the credential's `iss`, which
 * the registry must authorise for the vct as before. Each refusal has its own code.
 */
const DID = 'did:web:issuer.example:offices:buergerbuero';
const OTHER_DID = 'did:web:issuer.example:offices:standesamt';
const CI = 'https://issuer.example/offices/buergerbuero';
const DAY = 86_400_000;
const NONCE = 'n-0S6_WzA2Mj';
const AUD = 'decentralized_identifier:did:web:verifier.example:verifiers:bibliothek';

describe('x5c issuer certificates (HAIP, SD-JWT VC §2.5)', () => {
  const now = Date.now();
  const office = p256Signer(`${DID}#k1`);
  const holder = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let ca: CityCa;
  let wrongCa: CityCa;
  const didDoc = buildDidDocument(DID, [{ fragment: 'k1', publicJwk: office.publicJwk }]);
  const resolver = createDidResolver({ local: (did) => (did === DID ? didDoc : undefined) });
  const noStatus = {} as StatusListClient;

  beforeAll(async () => {
    ca = await demoCa(now);
    wrongCa = await demoCa(now);
  });

  async function credential(x5c: readonly string[] | undefined, signer = office, iss = DID): Promise<string> {
    const issued = await issueSdJwtVc({ signer, iss, vct: CARD, ...(x5c ? { x5c } : {}), claims: { ausweisnummer: 'LSB-4711' }, cnf: { jwk: holder.publicKey.export({ format: 'jwk' }) as JWK }, iat: Math.floor(now / 1000) - 60, exp: Math.floor(now / 1000) + 3600 });
    return presentSdJwtVc({ sdJwt: issued, disclose: [['ausweisnummer']], holderKey: holder.privateKey, aud: AUD, nonce: NONCE, iat: Math.floor(now / 1000) });
  }
  const officeLeaf = (c: CityCa, o: { did?: string; ci?: string; at?: number; days?: number; key?: JWK } = {}) =>
    issueOfficeCertificate(c, { publicJwk: o.key ?? office.publicJwk, name: 'Bürgerbüro', credentialIssuer: o.ci ?? CI, did: o.did ?? DID, now: o.at ?? now, ...(o.days ? { days: o.days } : {}) });
  const check = (presentation: string, anchors: readonly x509.X509Certificate[] = [ca.root], withResolver: Resolver = resolver) =>
    checkSdJwtPresentation({ resolver: withResolver, trust: async () => fakeRegistry([DID, OTHER_DID]), status: noStatus, trustedCas: () => anchors }, { presentation, nonce: NONCE, clientId: AUD, now, queryId: 'card' });
  const resolverFor = (doc: Record<string, unknown>) => createDidResolver({ local: (did) => (did === DID ? doc : undefined) });

  it('accepts a credential whose x5c chain leads to the trusted city CA', async () => {
    const leaf = await officeLeaf(ca);
    const r = await check(await credential(leaf.x5c));
    expect(r).toMatchObject({ ok: true, issuer: DID, vct: CARD });
  });

  it('refuses a valid certificate whose key the office revoked in its DID document (no CRL: the DID document is the revocation)', async () => {
    const leaf = await officeLeaf(ca);
    const revoked = resolverFor(buildDidDocument(DID, [{ fragment: 'k1', publicJwk: office.publicJwk, revoked: new Date(now - 1000).toISOString() }]));
    const r = await check(await credential(leaf.x5c), [ca.root], revoked);
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_signature' } });
  });

  it('refuses a certified key that the issuer’s DID document does not list under that kid', async () => {
    const leaf = await officeLeaf(ca);
    const elsewhere = resolverFor(buildDidDocument(DID, [{ fragment: 'k1', publicJwk: p256Signer('y').publicJwk }]));
    const r = await check(await credential(leaf.x5c), [ca.root], elsewhere);
    expect(r).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
    expect(JSON.stringify(r)).toContain('certificate_key_not_in_did');
  });

  it('accepts a leaf below an operator’s intermediate CA imported from PEM (x5c = leaf, intermediate; anchor = root)', async () => {
    const { intermediate, root } = await operatorIntermediate(now);
    const leaf = await officeLeaf(intermediate);
    expect(leaf.x5c).toHaveLength(2);
    expect(await check(await credential(leaf.x5c), [root])).toMatchObject({ ok: true, issuer: DID });
  });

  it('refuses a chain to a CA the verifier does not trust (wrong CA), though the did:web kid beside it would verify', async () => {
    const leaf = await officeLeaf(wrongCa);
    const r = await check(await credential(leaf.x5c));
    expect(r).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
    expect(JSON.stringify(r)).toContain('certificate_untrusted');
  });

  it('refuses a chain through a look-alike CA with the city CA’s name (and the look-alike sent along)', async () => {
    const fake = await lookAlikeCa(ca, now);
    const leaf = await officeLeaf(fake);
    const withRoot = [...leaf.x5c, Buffer.from(fake.certificate.rawData).toString('base64')];
    for (const x5c of [leaf.x5c, withRoot]) {
      const r = await check(await credential(x5c));
      expect(r).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
      expect(JSON.stringify(r)).toContain('certificate_untrusted');
    }
  });

  it('refuses an expired leaf certificate', async () => {
    const leaf = await officeLeaf(ca, { at: now - 40 * DAY, days: 30 });
    const r = await check(await credential(leaf.x5c));
    expect(r).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
    expect(JSON.stringify(r)).toContain('certificate_expired');
  });

  it('refuses a leaf whose subjectAltName does not name the credential’s iss (another office’s certificate)', async () => {
    const leaf = await officeLeaf(ca, { did: OTHER_DID });
    const r = await check(await credential(leaf.x5c));
    expect(r).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
    expect(JSON.stringify(r)).toContain('certificate_san_mismatch');
  });

  it('refuses a credential signed by a key other than the one the leaf certifies', async () => {
    const other = p256Signer(`${DID}#k1`);
    const leaf = await officeLeaf(ca, { key: other.publicJwk });
    // The DID document lists the certified key too: only the signature can tell.
    const both = resolverFor(buildDidDocument(DID, [{ fragment: 'k1', publicJwk: other.publicJwk }]));
    const r = await check(await credential(leaf.x5c), [ca.root], both);
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_signature' } });
  });

  it('refuses a leaf issued by an end-entity certificate (no CA)', async () => {
    const mid = p256Signer('x');
    const midLeaf = await issueLeafCertificate(ca, { publicJwk: mid.publicJwk, name: 'Kein CA', uris: ['https://x.example'], now });
    const key = await globalThis.crypto.subtle.importKey('jwk', mid.privateKey.export({ format: 'jwk' }) as never, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const notACa = { certificate: midLeaf.certificate, chainAbove: [], root: ca.root, signingKey: key, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } } as unknown as CityCa;
    const leaf = await officeLeaf(notACa);
    const chain = validateChain(leaf.x5c, [ca.root], now);
    expect(chain).toMatchObject({ ok: false, code: 'certificate_constraints' });
  });

  it('still refuses x5c garbage and still verifies a credential without x5c by its did:web kid', async () => {
    expect(validateChain(['not base64!'], [ca.root], now)).toMatchObject({ ok: false, code: 'certificate_malformed' });
    expect(validateChain([], [ca.root], now)).toMatchObject({ ok: false, code: 'certificate_malformed' });
    const r = await check(await credential(undefined));
    expect(r).toMatchObject({ ok: true, issuer: DID });
  });

  it('the registry check stays: a certified office the registry does not authorise for the vct is refused', async () => {
    const leaf = await officeLeaf(ca);
    const r = await checkSdJwtPresentation({ resolver, trust: async () => fakeRegistry([OTHER_DID]), status: noStatus, trustedCas: () => [ca.root] }, { presentation: await credential(leaf.x5c), nonce: NONCE, clientId: AUD, now, queryId: 'card' });
    expect(r).toMatchObject({ ok: false, error: { code: 'untrusted_issuer' } });
  });

  // Issue 17: `iss` = the office's https Credential Issuer Identifier, the DID taken from the certificate.
  describe('https iss (the Credential Issuer Identifier) with x5c', () => {
    const leafWith = (uris: string[]) => issueLeafCertificate(ca, { publicJwk: office.publicJwk, name: 'Bürgerbüro', uris, now });

    it('accepts it: the registry and the DID document are asked about the DID the certificate names, and the verdict names that DID', async () => {
      const leaf = await officeLeaf(ca);
      expect(await check(await credential(leaf.x5c, office, CI))).toMatchObject({ ok: true, issuer: DID, vct: CARD });
      // The registry decides on that DID: the same credential from an office it does not authorise is refused.
      const r = await checkSdJwtPresentation({ resolver, trust: async () => fakeRegistry([OTHER_DID]), status: noStatus, trustedCas: () => [ca.root] }, { presentation: await credential(leaf.x5c, office, CI), nonce: NONCE, clientId: AUD, now, queryId: 'card' });
      expect(r).toMatchObject({ ok: false, error: { code: 'untrusted_issuer' } });
    });

    it('refuses a leaf that names two DIDs, or none (the registry entity must be unambiguous)', async () => {
      for (const uris of [[CI, DID, OTHER_DID], [CI]]) {
        const r = await check(await credential((await leafWith(uris)).x5c, office, CI));
        expect(r, uris.join(' ')).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
        expect(JSON.stringify(r)).toContain('certificate_san_mismatch');
      }
    });

    it('refuses a leaf whose SAN URIs name another office (iss not among them), though its DID is registered', async () => {
      const leaf = await officeLeaf(ca, { ci: 'https://issuer.example/offices/standesamt', did: DID });
      const r = await check(await credential(leaf.x5c, office, CI));
      expect(r).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
      expect(JSON.stringify(r)).toContain('certificate_san_mismatch');
    });

    it('refuses an https iss without x5c (the registry knows DIDs, not https identifiers), and an iss that is neither', async () => {
      for (const iss of [CI, 'ftp://issuer.example/x', 'https://issuer.example/offices/buergerbuero?x=1']) {
        const r = await check(await credential(undefined, office, iss));
        expect(r, iss).toMatchObject({ ok: false, error: { code: 'untrusted_issuer' } });
        expect(JSON.stringify(r)).toContain('issuer_unsupported');
      }
    });

    it('refuses a wrong CA for an https iss', async () => {
      const r = await check(await credential((await officeLeaf(wrongCa)).x5c, office, CI));
      expect(r).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
      expect(JSON.stringify(r)).toContain('certificate_untrusted');
    });

    it('without trusted CAs: accepted only through the DID the certificate names and that DID’s document (did:web assurance)', async () => {
      const leaf = await officeLeaf(wrongCa);
      expect(await check(await credential(leaf.x5c, office, CI), [])).toMatchObject({ ok: true, issuer: DID });
      // A self-made certificate for another key: the DID document does not list it.
      const forger = p256Signer(`${DID}#k1`);
      const forged = await officeLeaf(wrongCa, { key: forger.publicJwk });
      const r = await check(await credential(forged.x5c, forger, CI), []);
      expect(r).toMatchObject({ ok: false, error: { code: 'issuer_certificate_invalid' } });
      expect(JSON.stringify(r)).toContain('certificate_key_not_in_did');
      // Names still checked without a CA.
      const twoDids = await check(await credential((await leafWith([CI, DID, OTHER_DID])).x5c, office, CI), []);
      expect(JSON.stringify(twoDids)).toContain('certificate_san_mismatch');
    });
  });
});
