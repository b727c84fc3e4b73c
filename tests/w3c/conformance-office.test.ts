import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE } from '../../core/demo/leipzig.ts';
import { loadIssuerConfig } from '../../issuer/config.ts';
import { loadRegistryConfig } from '../../trust-registry/config.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * The opt-in W3C conformance office (ISSUER_CONFORMANCE_OFFICE=1): open claim schema, issued and
 * verified over the VC-API with the credentials the W3C / CCG suites send; the VCDM rules still hold
 * over HTTP (issuer and verifier); without the setting the office does not exist.
 */
const V1 = 'https://www.w3.org/2018/credentials/v1';
const V2 = 'https://www.w3.org/ns/credentials/v2';
const SLUG = CONFORMANCE.office.slug;
const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
type Envelope = { '@context': string[]; id: string; type: string };
const jwsOf = (vc: string | Envelope) => (typeof vc === 'string' ? vc : vc.id.slice('data:application/vc+jwt,'.length));

describe('W3C conformance office (ISSUER_CONFORMANCE_OFFICE=1)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ISSUER_CONFORMANCE_OFFICE: '1', VERIFIER_TRUST_MAX_AGE: '0', ISSUER_TRUST_MAX_AGE: '0' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const issue = (credential: unknown) => stack.admin('issuer', `/offices/${SLUG}/credentials/issue`, { credential, options: {} });
  const issued = async (credential: unknown) => {
    const res = await issue(credential);
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { verifiableCredential: string | Envelope };
  };
  const verify = async (verifiableCredential: unknown) => {
    const res = await stack.admin('verifier', '/credentials/verify', { verifiableCredential });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json();
  };
  const refusedAt = async (credential: unknown, field: string) => {
    const res = await issue(credential);
    expect(res.status, await res.clone().text()).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { field: string }).field).toBe(field);
  };
  const v2 = (extra: Record<string, unknown> = {}) => ({ '@context': [V2], type: ['VerifiableCredential'], credentialSubject: { id: 'did:example:subject' }, ...extra });

  it('issues and verifies a VCDM 2.0 credential with an open claim schema and the suites\' shape (issuer given, subject only id)', async () => {
    const out = await issued(v2({ id: 'urn:uuid:5f0c1c0e-2f7a-4d3e-9a3c-0d3f2b9d5e11', issuer: stack.officeDid(SLUG) }));
    const env = out.verifiableCredential as Envelope;
    expect(env['@context']).toEqual([V2]);
    const p = payloadOf(jwsOf(env));
    expect(p).toMatchObject({ id: 'urn:uuid:5f0c1c0e-2f7a-4d3e-9a3c-0d3f2b9d5e11', issuer: stack.officeDid(SLUG), type: ['VerifiableCredential', CONFORMANCE.w3cType], credentialSubject: { id: 'did:example:subject' } });
    const r = await verify(env);
    expect(r, JSON.stringify(r)).toMatchObject({ verified: true, errors: [] });
    // The registry seed (same variable) knows the type and the office.
    expect(await (await stack.admin('registry', '/api/credential-types')).text()).toContain(CONFORMANCE.vct);
    expect(await (await stack.admin('registry', '/api/entities')).text()).toContain(stack.officeDid(SLUG));
    expect(r.credential).toMatchObject({ vcdm: '2.0', vct: CONFORMANCE.vct });

    // Any claims, names, related resources, refresh/terms/evidence as the data model allows them.
    const open = await issued(v2({
      name: [{ '@value': 'Prüfnachweis', '@language': 'de' }, { '@value': 'Test credential', '@language': 'en' }],
      issuer: { id: stack.officeDid(SLUG), name: { '@value': 'Konformitätsprüfstelle', '@language': 'de' } },
      credentialSubject: { id: 'did:example:subject', degree: { type: 'BachelorDegree', name: 'Bachelor of Science' }, anything: [1, 2, 3] },
      relatedResource: [{ id: 'https://www.w3.org/ns/credentials/v2', digestSRI: 'sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg' }],
      termsOfUse: { type: 'IssuerPolicy', id: 'https://example.org/terms/1' },
      evidence: [{ type: 'Evidence' }],
      refreshService: { type: 'ManualRefreshService2018', id: 'https://example.org/refresh/1' },
    }));
    expect((await verify(open.verifiableCredential)).verified).toBe(true);
  });

  it('issues VCDM 1.1 with credential.id carried as jti, and verifies it', async () => {
    const id = 'urn:uuid:0b4a3f4e-8f0e-4c1d-a5a1-7b9c7c1f2a10';
    const out = await issued({ '@context': [V1], id, type: ['VerifiableCredential'], issuer: stack.officeDid(SLUG), issuanceDate: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), credentialSubject: { id: 'did:key:z6MkhTNL7i2etLerDK8Acz5t528giE5KA4p75T6ka1E1D74r', alumniOf: 'Example University' } });
    expect(typeof out.verifiableCredential).toBe('string');
    expect(payloadOf(out.verifiableCredential as string).jti).toBe(id);
    const r = await verify(out.verifiableCredential);
    expect(r, JSON.stringify(r)).toMatchObject({ verified: true });
    // A 1.1 subject with only an id: 400 naming the member, never a 500 (the VC-JWT library refuses it).
    await refusedAt({ '@context': [V1], type: ['VerifiableCredential'], credentialSubject: { id: 'did:example:subject' } }, 'credential.credentialSubject');
  });

  it('fills in a missing issuer (the route defines it) and refuses a different one with 400 naming credential.issuer', async () => {
    const out = await issued(v2());
    expect(payloadOf(jwsOf(out.verifiableCredential)).issuer).toBe(stack.officeDid(SLUG));
    await refusedAt(v2({ issuer: 'did:example:someone-else' }), 'credential.issuer');
    await refusedAt(v2({ issuer: { id: stack.officeDid('bibliothek') } }), 'credential.issuer');
  });

  it('still enforces the data model: {} subject, names, related resources, typed objects', async () => {
    await refusedAt(v2({ credentialSubject: {} }), 'credential.credentialSubject');
    await refusedAt(v2({ name: { '@value': 'x', '@language': 'en', url: 'did:example:x' } }), 'credential.name.url');
    await refusedAt(v2({ relatedResource: [{ id: 'https://example.org/r' }] }), 'credential.relatedResource.0');
    await refusedAt(v2({ relatedResource: [{ id: 'https://example.org/r', digestSRI: 'sha384-AAAA' }, { id: 'https://example.org/r', digestSRI: 'sha384-AAAA' }] }), 'credential.relatedResource.0.digestSRI');
    await refusedAt(v2({ refreshService: { id: 'https://example.org/refresh/1' } }), 'credential.refreshService.type');
    await refusedAt(v2({ termsOfUse: {} }), 'credential.termsOfUse.type');
    await refusedAt(v2({ evidence: {} }), 'credential.evidence.type');
    // Never a registered type of another office.
    await refusedAt(v2({ type: ['VerifiableCredential', 'Bibliotheksausweis'] }), 'credential.type');
  });

  it('bounds the open claim schema', async () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 10; i++) deep = { nested: deep };
    await refusedAt(v2({ credentialSubject: { id: 'did:example:subject', deep } }), 'credential.credentialSubject');
  });
});

describe('W3C conformance office without the setting', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('does not exist: 404 problem, and the registry does not know its type', async () => {
    const res = await stack.admin('issuer', `/offices/${SLUG}/credentials/issue`, { credential: { '@context': [V2], type: ['VerifiableCredential'], credentialSubject: { id: 'did:example:subject' } } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const types = await stack.admin('registry', '/api/credential-types');
    expect(types.status).toBe(200);
    expect(await types.text()).not.toContain(CONFORMANCE.vct);
    const entities = await stack.admin('registry', '/api/entities');
    expect(entities.status).toBe(200);
    expect(await entities.text()).not.toContain(stack.officeDid(SLUG));
  });

  it('is refused in production mode by both services', () => {
    const env = { NODE_ENV: 'production', ISSUER_CONFORMANCE_OFFICE: '1' };
    expect(() => loadIssuerConfig(env)).toThrow();
    expect(() => loadRegistryConfig(env)).toThrow();
    expect(() => loadIssuerConfig({ ISSUER_CONFORMANCE_OFFICE: 'yes', DATA_DIR: stack.dataDir })).toThrow(/ISSUER_CONFORMANCE_OFFICE/);
  });
});
