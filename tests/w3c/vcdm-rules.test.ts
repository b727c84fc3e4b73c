import { describe, expect, it } from 'vitest';
import { envelopeCredential } from '../../core/formats/vc-jose-cose/index.ts';
import { validateCredential, VcdmError } from '../../core/formats/vcdm/validate-credential.ts';

/**
 * VCDM 2.0 rules the W3C test suites (vc-data-model-2.0-test-suite, CCG VC-API issuer and verifier
 * suites) probe, each with a conforming and a non-conforming case; the inputs are the suites' own
 * fixtures where they have one (tests/input/*.json and fixtures.js of the VCDM 2.0 suite).
 */
const V2 = 'https://www.w3.org/ns/credentials/v2';
const V1 = 'https://www.w3.org/2018/credentials/v1';
const base = (extra: Record<string, unknown> = {}) => ({ '@context': [V2], type: ['VerifiableCredential'], issuer: 'did:example:issuer', credentialSubject: { id: 'did:example:subject' }, ...extra });
const ok = (doc: unknown) => expect(() => validateCredential(doc)).not.toThrow();
const refused = (doc: unknown, code: string, field: string) => {
  try {
    validateCredential(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(VcdmError);
    expect({ code: (e as VcdmError).code, field: (e as VcdmError).field }).toEqual({ code, field });
    return;
  }
  throw new Error(`accepted, expected ${code} at ${field}`);
};

// VCDM 2.0 test suite fixtures.js relatedResource.
const RELATED = { id: 'https://www.w3.org/ns/credentials/v2', digestSRI: 'sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg', digestMultibase: 'uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k' };

describe('VCDM 2.0 §4.8 credentialSubject', () => {
  it('accepts a subject that holds only an id (suite: credential-ok.json), in 2.0 and 1.1', () => {
    ok(base());
    ok({ '@context': [V1], type: ['VerifiableCredential'], issuer: 'did:example:issuer', issuanceDate: '2026-01-01T00:00:00Z', credentialSubject: { id: 'did:example:subject' } });
  });
  it('refuses {} (suite: credential-subject-no-claims-fail.json) and an empty subject in a set', () => {
    refused(base({ credentialSubject: {} }), 'vcdm-credential-subject', 'credentialSubject');
    refused(base({ credentialSubject: [{ id: 'did:example:a' }, {}] }), 'vcdm-credential-subject', 'credentialSubject.1');
  });
});

describe('VCDM 2.0 §4.6 / §11.1 name and description', () => {
  it('accepts strings, language value objects with @language/@direction, and sets of them, on credential and issuer', () => {
    ok(base({ name: 'Example', description: { '@value': 'Beispiel', '@language': 'de' } }));
    ok(base({ name: { '@value': 'Example Credential', '@language': 'en', '@direction': 'ltr' } }));
    ok(base({ name: [{ '@value': 'Dog', '@language': 'en' }, { '@value': 'Chien', '@language': 'fr' }] }));
    ok(base({ issuer: { id: 'did:example:issuer', name: { '@value': 'Amt', '@language': 'de-DE' }, description: 'An office' } }));
  });
  it('refuses a language value object with another member (suite: *-name-extra-prop-en-fail.json), bad tags, directions and types', () => {
    refused(base({ name: { '@value': 'Example Credential', '@language': 'en', url: 'did:example:credential' } }), 'vcdm-name', 'name.url');
    refused(base({ description: { '@value': 'x', '@language': 'not a tag' } }), 'vcdm-name', 'description.@language');
    refused(base({ name: { '@value': 'x', '@direction': 'up' } }), 'vcdm-name', 'name.@direction');
    refused(base({ name: 4 }), 'vcdm-name', 'name');
    refused(base({ name: [] }), 'vcdm-name', 'name');
    refused(base({ issuer: { id: 'did:example:issuer', description: { '@language': 'en' } } }), 'vcdm-name', 'issuer.description.@value');
  });
});

describe('VCDM 2.0 §5.3 relatedResource', () => {
  it('accepts an id with digestSRI, with digestMultibase (bare and multihash), with mediaType, as object or set', () => {
    ok(base({ relatedResource: { id: RELATED.id, digestSRI: RELATED.digestSRI } }));
    ok(base({ relatedResource: { id: RELATED.id, digestMultibase: RELATED.digestMultibase } }));
    ok(base({ relatedResource: [{ id: RELATED.id, mediaType: 'application/ld+json', digestSRI: RELATED.digestSRI }] }));
    // Multihash sha2-256 (0x12 0x20 + 32 bytes), base64url and base58btc.
    const mh = Buffer.concat([Buffer.from([0x12, 0x20]), Buffer.alloc(32, 7)]);
    ok(base({ relatedResource: [{ id: 'https://example.org/a', digestMultibase: `u${mh.toString('base64url')}` }, { id: 'https://example.org/b', digestMultibase: 'zQmYtUc4iTCbbfVSDNKvtQqrfyezPPnFvE33wFmutw9PBBk' }] }));
  });
  it('refuses strings, a missing id, duplicate ids, no digest and malformed digests', () => {
    refused(base({ relatedResource: [RELATED.id] }), 'vcdm-related-resource', 'relatedResource.0');
    refused(base({ relatedResource: [{ digestMultibase: RELATED.digestMultibase }] }), 'vcdm-related-resource', 'relatedResource.0.id');
    refused(base({ relatedResource: [{ id: RELATED.id, digestSRI: RELATED.digestSRI }, { id: RELATED.id, digestMultibase: RELATED.digestMultibase }] }), 'vcdm-related-resource', 'relatedResource.1.id');
    refused(base({ relatedResource: [{ id: RELATED.id }] }), 'vcdm-related-resource', 'relatedResource.0');
    refused(base({ relatedResource: { id: RELATED.id, digestSRI: 'md5-AAAA' } }), 'vcdm-related-resource', 'relatedResource.digestSRI');
    refused(base({ relatedResource: { id: RELATED.id, digestSRI: 'sha384-AAAA' } }), 'vcdm-related-resource', 'relatedResource.digestSRI');
    refused(base({ relatedResource: { id: RELATED.id, digestMultibase: 'xabc' } }), 'vcdm-related-resource', 'relatedResource.digestMultibase');
    refused(base({ relatedResource: { id: RELATED.id, digestMultibase: 'uAAAA' } }), 'vcdm-related-resource', 'relatedResource.digestMultibase');
    refused(base({ relatedResource: [] }), 'vcdm-related-resource', 'relatedResource');
  });
});

describe('VCDM 2.0 §5.4–§5.6 refreshService, termsOfUse, evidence', () => {
  it('accepts typed values, one or several (suite: credential-refresh-type-ok, termsofuse-id-ok, evidences-ok)', () => {
    ok(base({ refreshService: { id: 'https://example.org/refresh/1', type: 'ManualRefreshService2018' } }));
    ok(base({ termsOfUse: [{ type: 'IssuerPolicy', id: 'https://example.org/terms/1' }, { type: 'HolderPolicy' }] }));
    ok(base({ evidence: [{ type: ['Evidence', 'DocumentVerification'] }, { id: 'https://example.org/evidence/1', type: 'Evidence' }] }));
  });
  it('refuses values without a type (suite: refresh-no-type-fail, termsofuse-no-type-fail, evidence-missing-type-fail) and non-objects', () => {
    refused(base({ refreshService: { id: 'did:example:refresh/1' } }), 'vcdm-refresh-service', 'refreshService.type');
    refused(base({ termsOfUse: { id: 'did:example:terms/1' } }), 'vcdm-terms-of-use', 'termsOfUse.type');
    refused(base({ termsOfUse: {} }), 'vcdm-terms-of-use', 'termsOfUse.type');
    refused(base({ evidence: {} }), 'vcdm-evidence', 'evidence.type');
    refused(base({ evidence: ['x'] }), 'vcdm-evidence', 'evidence.0');
    refused(base({ evidence: { type: 'Evidence', id: 'not a url' } }), 'vcdm-id', 'evidence.id');
  });
});

describe('VCDM 2.0 §4.3 envelope @context', () => {
  it('writes the envelope @context as an ordered set (array) starting with the v2 base context', () => {
    expect(envelopeCredential('a.b.c')['@context']).toEqual([V2]);
  });
});
