import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { apiKeyCli } from '../../scripts/api-keys.ts';
import { decompressStatusList, STATUS, statusAt, type Bits } from '../../core/status-list/token-status-list.ts';
import { ISSUER_TOKEN, startTestIssuer, type RunningIssuer } from '../helpers/issuer.ts';
import { newHolderKey, testWallet, type HolderKey } from '../helpers/oid4vci-wallet.ts';
import { MELDE } from '../helpers/fixtures.ts';

/**
 * The API the clerk's desk page uses (issue 15): the offer's `state` next to its `status`, and one
 * status change for every batch copy an offer issued (POST /api/offices/{slug}/offers/{id}/status),
 * in one transaction with one audit entry per copy, under the single-credential route's rules.
 */
const GEBURT = { vorname: 'Erika', familienname: 'Mustermann', geburtsname: 'Gabler', geburtsdatum: '1990-04-01', geburtsort: 'Leipzig', registernummer: 'G 1234/1990', standesamt: 'Leipzig' };
const CARD = { ausweisnummer: 'LSB-4711', nutzergruppe: 'ermaessigt', gueltig_bis: '2028-06-30', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

type Copy = { credential_id: string; format: string; status: string; status_list: { uri: string; idx: number } };

describe('issuer: the desk API (offer state, status of all copies)', () => {
  let iss: RunningIssuer;
  let keys: HolderKey[];
  let shift = 0;
  const apiKeys: Record<string, string> = {};

  beforeAll(async () => {
    iss = await startTestIssuer({ env: { ISSUER_TRUST_MAX_AGE: '0' }, clock: () => Date.now() + shift });
    keys = await Promise.all([newHolderKey(), newHolderKey(), newHolderKey()]);
    const env = { DATA_DIR: iss.registry.dataDir, KEY_ENCRYPTION_SECRET: 'a'.repeat(64), ISSUER_ADMIN_TOKEN: ISSUER_TOKEN, ISSUER_PUBLIC_URL: iss.url, REGISTRY_PUBLIC_URL: iss.registry.url };
    for (const [name, scope, role] of [['clerk', 'office:buergerbuero', 'clerk'], ['otherAdmin', 'office:bibliothek', 'administrator'], ['officeAdmin', 'office:buergerbuero', 'administrator']] as const) {
      const out: string[] = [];
      expect(await apiKeyCli(['create', '--service', 'issuer', '--scope', scope, '--role', role, '--json'], { env, out: (l) => out.push(l), err: () => undefined })).toBe(0);
      apiKeys[name] = JSON.parse(out.join('\n')).token;
    }
  }, 60_000);
  afterAll(async () => {
    await iss?.close();
  });

  const offer = async (slug: string, configuration: string, claims: unknown, approval?: 'manual') => {
    const res = await iss.admin(`/api/offices/${slug}/offers`, { credential_configuration_id: configuration, claims, ...(approval ? { approval } : {}) });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { offer_id: string; credential_offer: string; tx_code: string };
  };
  const view = async (slug: string, id: string) => (await (await iss.admin(`/api/offices/${slug}/offers/${id}`)).json()) as { status: string; state: string; credentials: Copy[] };
  const redeem = async (o: { credential_offer: string; tx_code: string }) => {
    const { client } = testWallet(keys);
    const credentialOffer = await client.resolveCredentialOffer(o.credential_offer);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: o.tx_code });
    return { issuerMetadata, accessToken: accessTokenResponse.access_token };
  };
  /** Redeems and asks for `copies` credentials (batch: one proof per key). */
  const collect = async (o: { credential_offer: string; tx_code: string }, configuration: string, copies: number) => {
    const { client, signer } = testWallet(keys);
    const { issuerMetadata, accessToken } = await redeem(o);
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const proofs = await Promise.all(keys.slice(0, copies).map(async (k) => (await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: configuration, signer: signer(k), nonce: c_nonce })).jwt));
    return client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: configuration, proofs: { jwt: proofs } });
  };
  const setAll = (slug: string, id: string, status: unknown, token?: string | null) => iss.admin(`/api/offices/${slug}/offers/${id}/status`, { status }, token);
  const problem = async (res: Response, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ type: `urn:id-ideal:problem:${code}`, status });
  };
  /** What the public Token Status List says for each copy (draft-ietf-oauth-status-list §4). */
  const listed = async (copies: Copy[]) =>
    Promise.all(
      copies.map(async (c) => {
        const { status_list } = decodeJwt(await (await fetch(c.status_list.uri)).text()) as { status_list: { bits: Bits; lst: string } };
        return statusAt(decompressStatusList(status_list.lst), status_list.bits, c.status_list.idx);
      }),
    );

  it('names the offer state for the desk: waiting, collected, locked, expired (status unchanged)', async () => {
    const o = await offer('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    expect(await view('buergerbuero', o.offer_id)).toMatchObject({ status: 'pending', state: 'waiting' });
    // The code redeemed, the credential not yet fetched: still waiting for the citizen's wallet.
    const { issuerMetadata, accessToken } = await redeem(o);
    expect(await view('buergerbuero', o.offer_id)).toMatchObject({ status: 'pending', state: 'waiting' });
    const { client, signer } = testWallet(keys);
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: 'meldebescheinigung_sd_jwt', signer: signer(keys[0]!), nonce: c_nonce });
    await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: 'meldebescheinigung_sd_jwt', proofs: { jwt: [jwt] } });
    expect(await view('buergerbuero', o.offer_id)).toMatchObject({ status: 'issued', state: 'collected' });

    const locked = await offer('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const code = (await (await fetch(new URL(locked.credential_offer).searchParams.get('credential_offer_uri')!)).json()).grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']['pre-authorized_code'];
    const wrong = locked.tx_code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      await fetch(`${iss.url}/offices/buergerbuero/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': code, tx_code: wrong }) });
    }
    expect(await view('buergerbuero', locked.offer_id)).toMatchObject({ status: 'expired', locked: true, state: 'locked' });

    const late = await offer('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    shift = 31 * 60_000;
    try {
      expect(await view('buergerbuero', late.offer_id)).toMatchObject({ status: 'expired', state: 'expired' });
    } finally {
      shift = 0;
    }
  });

  it('names a deferred offer awaiting_approval, then approved, then collected', async () => {
    const o = await offer('standesamt', 'geburtsurkunde_sd_jwt', GEBURT, 'manual');
    // Not yet redeemed: the citizen has not come; nothing to approve on the desk yet.
    expect(await view('standesamt', o.offer_id)).toMatchObject({ status: 'pending', state: 'waiting', approved: false });
    const { client, signer } = testWallet(keys);
    const { issuerMetadata, accessToken } = await redeem(o);
    expect((await view('standesamt', o.offer_id)).state).toBe('awaiting_approval');
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: 'geburtsurkunde_sd_jwt', signer: signer(keys[0]!), nonce: c_nonce });
    const first = await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: 'geburtsurkunde_sd_jwt', proofs: { jwt: [jwt] } });
    expect(first.response.status).toBe(202);
    expect(await view('standesamt', o.offer_id)).toMatchObject({ status: 'pending', state: 'awaiting_approval' });
    expect((await iss.admin(`/api/offices/standesamt/offers/${o.offer_id}/approve`, {})).status).toBe(200);
    expect((await view('standesamt', o.offer_id)).state).toBe('approved');
    await client.retrieveDeferredCredentials({ issuerMetadata, accessToken, transactionId: first.credentialResponse.transaction_id! });
    expect(await view('standesamt', o.offer_id)).toMatchObject({ status: 'issued', state: 'collected' });
  });

  it('suspends, reinstates and revokes every batch copy at once, one audit entry per copy, in the public status list', async () => {
    const o = await offer('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    await collect(o, 'meldebescheinigung_sd_jwt', 3);
    const copies = (await view('buergerbuero', o.offer_id)).credentials;
    expect(copies).toHaveLength(3);
    const ids = copies.map((c) => c.credential_id);

    const suspended = await setAll('buergerbuero', o.offer_id, 'suspended');
    expect(suspended.status).toBe(200);
    expect(await suspended.json()).toMatchObject({ offer_id: o.offer_id, status: 'suspended', changed: 3, credentials: ids.map((id) => ({ credential_id: id, status: 'suspended' })) });
    expect((await view('buergerbuero', o.offer_id)).credentials.map((c) => c.status)).toEqual(['suspended', 'suspended', 'suspended']);
    expect(await listed(copies)).toEqual([STATUS.SUSPENDED, STATUS.SUSPENDED, STATUS.SUSPENDED]);

    // The same status again changes nothing and writes no audit entry.
    const again = await setAll('buergerbuero', o.offer_id, 'suspended');
    expect(await again.json()).toMatchObject({ changed: 0 });

    expect((await (await setAll('buergerbuero', o.offer_id, 'valid', apiKeys.officeAdmin)).json()).changed).toBe(3);
    expect(await listed(copies)).toEqual([STATUS.VALID, STATUS.VALID, STATUS.VALID]);

    expect((await (await setAll('buergerbuero', o.offer_id, 'revoked')).json()).changed).toBe(3);
    expect(await listed(copies)).toEqual([STATUS.INVALID, STATUS.INVALID, STATUS.INVALID]);

    const { entries } = (await (await iss.admin('/api/audit')).json()) as { entries: { actor: string; action: string; target: string; details: Record<string, unknown> }[] };
    const mine = entries.filter((e) => e.action === 'credential.status' && ids.includes(e.target));
    expect(mine.map((e) => `${e.details.from}>${e.details.to}`)).toEqual([...Array(3).fill('valid>suspended'), ...Array(3).fill('suspended>valid'), ...Array(3).fill('valid>revoked')]);
    expect(new Set(mine.slice(0, 3).map((e) => e.target))).toEqual(new Set(ids));
    expect(mine[0]).toMatchObject({ actor: 'admin:bootstrap', details: { office: 'buergerbuero', offer: o.offer_id } });
    expect(mine[3]!.actor).toMatch(/^issuer_/);
    expect(JSON.stringify(entries)).not.toContain('Mustermann');
    expect((await (await iss.admin('/api/audit/check')).json()).valid).toBe(true);

    // Revocation is final, for all copies: nothing changes, and no audit entry is written.
    const before = entries.length;
    await problem(await setAll('buergerbuero', o.offer_id, 'valid'), 409, 'credential-revoked');
    await problem(await setAll('buergerbuero', o.offer_id, 'suspended'), 409, 'credential-revoked');
    expect((await view('buergerbuero', o.offer_id)).credentials.map((c) => c.status)).toEqual(['revoked', 'revoked', 'revoked']);
    expect(((await (await iss.admin('/api/audit')).json()).entries as unknown[]).length).toBe(before);
  });

  it('refuses a change that one copy forbids, and then changes no copy at all', async () => {
    const o = await offer('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    await collect(o, 'meldebescheinigung_sd_jwt', 2);
    const [a, b] = (await view('buergerbuero', o.offer_id)).credentials;
    expect((await iss.admin(`/api/offices/buergerbuero/credentials/${a!.credential_id}/status`, { status: 'revoked' })).status).toBe(200);
    await problem(await setAll('buergerbuero', o.offer_id, 'suspended'), 409, 'credential-revoked');
    expect((await view('buergerbuero', o.offer_id)).credentials.find((c) => c.credential_id === b!.credential_id)!.status).toBe('valid');
    // Revoking the rest is allowed: the revoked copy stays revoked, the other one follows.
    expect(await (await setAll('buergerbuero', o.offer_id, 'revoked')).json()).toMatchObject({ changed: 1 });
  });

  it('cannot suspend VC-JWT copies (one revocation entry only): 409, nothing changed; revocation works', async () => {
    const o = await offer('bibliothek', 'bibliotheksausweis_jwt_vc', CARD);
    await collect(o, 'bibliotheksausweis_jwt_vc', 2);
    await problem(await setAll('bibliothek', o.offer_id, 'suspended'), 409, 'status-not-supported');
    expect((await view('bibliothek', o.offer_id)).credentials.map((c) => c.status)).toEqual(['valid', 'valid']);
    expect(await (await setAll('bibliothek', o.offer_id, 'revoked')).json()).toMatchObject({ changed: 2, credentials: [{ status: 'revoked' }, { status: 'revoked' }] });
  });

  it('answers with problems: not issued yet, unknown offer, bad body, wrong role or office, no token', async () => {
    const o = await offer('buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    await problem(await setAll('buergerbuero', o.offer_id, 'revoked'), 409, 'offer-not-issued');
    await problem(await setAll('buergerbuero', '00000000-0000-4000-8000-000000000000', 'revoked'), 404, 'unknown-offer');
    // Another office's offer is not found at this office.
    await problem(await setAll('bibliothek', o.offer_id, 'revoked'), 404, 'unknown-offer');
    await problem(await setAll('buergerbuero', 'not-an-id', 'revoked'), 400, 'invalid-request');
    await problem(await setAll('buergerbuero', o.offer_id, 'deleted'), 400, 'invalid-request');
    await problem(await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}/status`, { status: 'revoked', extra: 1 }), 400, 'invalid-request');
    // A JSON string is not an object: the strict body parser refuses it before the route.
    await problem(await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}/status`, '"revoked"'), 400, 'malformed-json');
    // A clerk creates and reads offers; changing status needs the office's administrator.
    await problem(await setAll('buergerbuero', o.offer_id, 'revoked', apiKeys.clerk), 403, 'insufficient-role');
    await problem(await setAll('buergerbuero', o.offer_id, 'revoked', apiKeys.otherAdmin), 403, 'out-of-scope');
    await problem(await setAll('buergerbuero', o.offer_id, 'revoked', null), 401, 'unauthorized');
    expect((await iss.admin(`/api/offices/buergerbuero/offers/${o.offer_id}`, undefined, apiKeys.clerk)).status).toBe(200);
  });
});
