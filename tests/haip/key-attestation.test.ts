import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startTestIssuer, type RunningIssuer } from '../helpers/issuer.ts';
import { demoCa } from './haip-fixtures.ts';
import { createOffer, credentialRequest, issuerDemoCa, keyAttestation, keyProof, newKey, nonces, patchOffice, tokenRequest, walletProvider, type Key } from './oauth-flow.ts';

/**
 * Key attestations (OID4VCI 1.0 Appendix D, F.1 `key_attestation`; HAIP 1.0): a credential
 * configuration with `key_attestations_required` is published with it (§12.2.4) and issued only for
 * proofs whose key a trusted attestation issuer attests with the required attack potential resistance.
 */
describe('key attestations in jwt proofs (OID4VCI 1.0 Appendix D)', () => {
  let iss: RunningIssuer;
  let attester: Key & { x5c: string[] };
  let untrusted: Key & { x5c: string[] };
  let holder: Key;
  const CI = () => `${iss.url}/offices/buergerbuero`;
  const REQUIRED = { key_storage: ['iso_18045_high'], user_authentication: ['iso_18045_high'] };

  beforeAll(async () => {
    iss = await startTestIssuer({ env: { ISSUER_TRUST_MAX_AGE: '0' } });
    [attester, untrusted, holder] = await Promise.all([issuerDemoCa(iss).then((ca) => walletProvider(ca, 'Test Key Attestation Issuer')), demoCa().then((ca) => walletProvider(ca)), newKey()]);
  });
  afterAll(async () => {
    await iss?.close();
  });

  const metadata = async () => (await (await fetch(`${iss.url}/.well-known/openid-credential-issuer/offices/buergerbuero`)).json()) as { credential_configurations_supported: Record<string, { proof_types_supported: { jwt: Record<string, unknown> } }> };
  const token = async () => (await tokenRequest(iss, await createOffer(iss))).body.access_token as string;

  it('without the requirement: metadata has no key_attestations_required, a proof with a valid key attestation is accepted, a wrong one refused', async () => {
    expect((await metadata()).credential_configurations_supported.meldebescheinigung_sd_jwt!.proof_types_supported.jwt.key_attestations_required).toBeUndefined();
    const t = await token();
    let { cNonce } = await nonces(iss);
    const wrongNonce = await keyProof(holder, { aud: CI(), nonce: cNonce, header: { key_attestation: await keyAttestation(attester, [holder.publicJwk], { nonce: 'another-nonce' }) } });
    const r1 = await credentialRequest(iss, `Bearer ${t}`, [wrongNonce]);
    expect(r1.res.status).toBe(400);
    expect(r1.body.error).toBe('invalid_proof');
    ({ cNonce } = await nonces(iss));
    const ok = await keyProof(holder, { aud: CI(), nonce: cNonce, header: { key_attestation: await keyAttestation(attester, [holder.publicJwk], { nonce: cNonce }) } });
    const r2 = await credentialRequest(iss, `Bearer ${t}`, [ok]);
    expect(r2.res.status, JSON.stringify(r2.body)).toBe(200);
  });

  describe('with key_attestations_required on the configuration', () => {
    beforeAll(async () => {
      await patchOffice(iss, 'buergerbuero', (d) => ({ ...d, credential_configurations: (d.credential_configurations as Record<string, unknown>[]).map((c) => (c.id === 'meldebescheinigung_sd_jwt' ? { ...c, key_attestations_required: REQUIRED } : c)) }));
    });
    afterAll(async () => {
      await patchOffice(iss, 'buergerbuero', (d) => ({ ...d, credential_configurations: (d.credential_configurations as Record<string, unknown>[]).map(({ key_attestations_required: _, ...c }) => c) }));
    });

    it('publishes it in proof_types_supported.jwt (§12.2.4)', async () => {
      expect((await metadata()).credential_configurations_supported.meldebescheinigung_sd_jwt!.proof_types_supported.jwt).toEqual({ proof_signing_alg_values_supported: ['ES256'], key_attestations_required: REQUIRED });
    });

    it('refuses with invalid_proof: no attestation, key not attested, untrusted issuer, too weak, expired, wrong typ', async () => {
      const t = await token();
      const other = await newKey();
      // Each refused for its own reason (the description says which check failed).
      const cases: [string, (n: string) => Promise<string | undefined>, RegExp][] = [
        ['missing', async () => undefined, /requires a key attestation/],
        ['key not attested', async (n) => keyAttestation(attester, [other.publicJwk], { nonce: n }), /attested_keys/],
        ['untrusted CA', async (n) => keyAttestation(untrusted, [holder.publicJwk], { nonce: n }), /verif/],
        ['key_storage moderate', async (n) => keyAttestation(attester, [holder.publicJwk], { nonce: n, keyStorage: ['iso_18045_moderate'] }), /key_storage/],
        ['user_authentication basic', async (n) => keyAttestation(attester, [holder.publicJwk], { nonce: n, userAuthentication: ['iso_18045_basic'] }), /user_authentication/],
        ['expired', async (n) => keyAttestation(attester, [holder.publicJwk], { nonce: n, exp: Math.floor(Date.now() / 1000) - 60 }), /exp/],
        ['old typ', async (n) => keyAttestation(attester, [holder.publicJwk], { nonce: n, typ: 'keyattestation+jwt' }), /typ/],
      ];
      for (const [name, make, why] of cases) {
        const { cNonce } = await nonces(iss);
        const ka = await make(cNonce);
        const proof = await keyProof(holder, { aud: CI(), nonce: cNonce, ...(ka ? { header: { key_attestation: ka } } : {}) });
        const r = await credentialRequest(iss, `Bearer ${t}`, [proof]);
        expect(r.res.status, `${name}: ${JSON.stringify(r.body)}`).toBe(400);
        expect(r.body.error, name).toBe('invalid_proof');
        expect(r.body.error_description, name).toMatch(why);
      }
      // Nothing was issued on that token: a valid attestation still gets the credential.
      const { cNonce } = await nonces(iss);
      const proof = await keyProof(holder, { aud: CI(), nonce: cNonce, header: { key_attestation: await keyAttestation(attester, [holder.publicJwk], { nonce: cNonce }) } });
      const r = await credentialRequest(iss, `Bearer ${t}`, [proof]);
      expect(r.res.status, JSON.stringify(r.body)).toBe(200);
      const sdJwt = (r.body.credentials as { credential: string }[])[0]!.credential;
      expect((decodeJwt(sdJwt.split('~')[0]!).cnf as { jwk: { x: string } }).jwk.x).toBe(holder.publicJwk.x);
    });

    it('issues for an attested key whose attestation has no nonce, and for a high one among several values', async () => {
      const t = await token();
      const { cNonce } = await nonces(iss);
      const ka = await keyAttestation(attester, [holder.publicJwk], { keyStorage: ['iso_18045_moderate', 'iso_18045_high'] });
      const r = await credentialRequest(iss, `Bearer ${t}`, [await keyProof(holder, { aud: CI(), nonce: cNonce, header: { key_attestation: ka } })]);
      expect(r.res.status, JSON.stringify(r.body)).toBe(200);
    });
  });
});
