import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Sealer } from '../../core/crypto/seal.ts';
import { TrustIndex } from '../../core/trust/evaluate.ts';
import type { CityCa } from '../../core/x509/city-ca.ts';
import { issueRelyingPartyCertificate } from '../../core/x509/issue-certificate.ts';
import { x509Hash } from '../../core/x509/x509-hash.ts';
import type { RelyingParty } from '../../verifier/deps.ts';
import { requestObject } from '../../verifier/use-cases/request-object.ts';
import { RelyingPartyCertificates, useX509Hash, x509HashClientsFromEnv } from '../../verifier/x509-clients.ts';
import { preparePresentation } from '../../wallet-demo/core/present.ts';
import { openWallet, type WalletContext } from '../../wallet-demo/core/wallet.ts';
import { CARD, fakeRegistry } from '../verifier/fake-registry.ts';
import { freePort } from '../helpers/net.ts';
import { demoCa, p256Signer } from './haip-fixtures.ts';

/**
 * OID4VP 1.0 §5.9.3 `x509_hash` (HAIP): the verifier signs its Request Object with the key of a
 * city-CA certificate sent in `x5c` and names itself `x509_hash:<base64url SHA-256 of the DER leaf>`;
 * the demo wallet validates the chain to the city CA it trusts and the hash before anything reaches
 * the consent screen, and finds the relying party's registry entry by the DID the certificate names.
 */
const DCQL = { credentials: [{ id: 'card', format: 'dc+sd-jwt', meta: { vct_values: [CARD] }, claims: [{ path: ['ausweisnummer'] }] }] };

describe('x509_hash client identifier (OID4VP 1.0 §5.9.3, HAIP)', () => {
  let server: Server;
  let base: string;
  let ca: CityCa;
  let wrongCa: CityCa;
  let ctx: WalletContext;
  let rpDid: string;
  /** Request objects served by id (what the verifier's request_uri returns). */
  const served = new Map<string, string>();
  const now = Date.now();

  beforeAll(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    rpDid = `did:web:localhost%3A${port}:verifiers:bibliothek`;
    server = createServer((req, res) => {
      const jwt = served.get(req.url ?? '');
      res.writeHead(jwt ? 200 : 404, { 'content-type': 'application/oauth-authz-req+jwt' }).end(jwt ?? '');
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    ca = await demoCa(now);
    wrongCa = await demoCa(now);
    ctx = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-haip-wallet-')), passphrase: 'korrekt-pferd-batterie', registryUrl: 'http://localhost:9', allowLocalHttp: true, trustedCas: () => [ca.root] });
    // The registry as the wallet sees it: the library counter is a registered verifier.
    const state = fakeRegistry([]).state;
    const index = new TrustIndex({ ...state, entities: [...state.entities, { id: rpDid, kind: 'verifier', name: { de: 'Stadtbibliothek', en: 'City library' } }] });
    ctx.trust = { index: async () => index } as never;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  function relyingParty(): RelyingParty {
    const signer = p256Signer(`${rpDid}#k1`);
    return { slug: 'bibliothek', name: { de: 'Stadtbibliothek', en: 'City library' }, identity: { did: rpDid, signer }, clientId: `decentralized_identifier:${rpDid}` } as unknown as RelyingParty;
  }

  /** Serves a Request Object built by the verifier's own code for `rp`; returns the openid4vp:// link. */
  async function publish(rp: RelyingParty, id: string, opts: { clientIdInLink?: string } = {}): Promise<{ link: string; jwt: string }> {
    const row = { id, rp: rp.slug, nonce: `nonce-${id}`, state: `state-${id}`, dcql_query: JSON.stringify(DCQL), response_mode: 'direct_post', enc_key_sealed: null, status: 'pending', expires_at: now + 300_000 };
    const deps = { store: { openRequest: async () => row }, sealer: new Sealer('b2'.repeat(32), 't'), clock: () => now, publicUrl: base };
    const jwt = await requestObject(deps as never, rp, id);
    served.set(`/r/${id}`, jwt);
    const link = `openid4vp://?${new URLSearchParams({ client_id: opts.clientIdInLink ?? rp.clientId, request_uri: `${base}/r/${id}` })}`;
    return { link, jwt };
  }

  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { code?: string; message: string });

  it('the verifier signs with x5c and names itself x509_hash:<SHA-256 of the DER leaf>; the wallet accepts it and shows the registered counter', async () => {
    const rp = relyingParty();
    await useX509Hash(ca, rp, base, now);
    const { link, jwt } = await publish(rp, 'ok');
    const header = decodeProtectedHeader(jwt);
    expect(header.x5c).toEqual(rp.x5c);
    expect(decodeJwt(jwt).client_id).toBe(`x509_hash:${x509Hash(Buffer.from(rp.x5c![0]!, 'base64'))}`);
    const plan = await preparePresentation(ctx, link);
    expect(plan.verifier).toBe(rpDid);
    expect(plan.verifierName).toEqual({ de: 'Stadtbibliothek', en: 'City library' });
  });

  it('keeps decentralized_identifier: as the default and one x509_hash per key when a relying party is rebuilt', async () => {
    const plain = relyingParty();
    const certs = new RelyingPartyCertificates(ca, base, () => now, x509HashClientsFromEnv({ VERIFIER_X509_HASH_CLIENTS: 'bibliothek' }));
    const other = { ...relyingParty(), slug: 'buergeramt' } as RelyingParty;
    await certs.apply(other);
    expect(other.clientId).toMatch(/^decentralized_identifier:/);
    expect(decodeProtectedHeader((await publish(other, 'plain')).jwt).x5c).toBeUndefined();
    await certs.apply(plain);
    const rebuilt = { ...plain, clientId: `decentralized_identifier:${rpDid}`, x5c: undefined } as RelyingParty;
    await certs.apply(rebuilt);
    expect(plain.clientId).toMatch(/^x509_hash:[A-Za-z0-9_-]{43}$/);
    expect(rebuilt.clientId).toBe(plain.clientId);
    expect(() => x509HashClientsFromEnv({ VERIFIER_X509_HASH_CLIENTS: 'Bib liothek' })).toThrow(/VERIFIER_X509_HASH_CLIENTS/);
  });

  it('refuses a request whose x509_hash is not the hash of the leaf sent', async () => {
    const rp = relyingParty();
    await useX509Hash(ca, rp, base, now);
    const other = await issueRelyingPartyCertificate(ca, { publicJwk: rp.identity.signer.publicJwk, name: 'x', clientUrl: `${base}/verifiers/bibliothek`, did: rpDid, now });
    rp.clientId = `x509_hash:${x509Hash(Buffer.from(other.x5c[0]!, 'base64'))}`;
    const { link } = await publish(rp, 'wrong-hash');
    const err = await refusal(preparePresentation(ctx, link));
    expect(err?.code).toBe('invalid_request');
    expect(err?.message).toMatch(/ \/ /);
  });

  it('refuses a certificate from a CA the wallet does not trust', async () => {
    const rp = relyingParty();
    await useX509Hash(wrongCa, rp, base, now);
    const { link } = await publish(rp, 'wrong-ca');
    expect((await refusal(preparePresentation(ctx, link)))?.code).toBe('invalid_request');
  });

  it('refuses an expired relying-party certificate', async () => {
    const rp = relyingParty();
    const leaf = await issueRelyingPartyCertificate(ca, { publicJwk: rp.identity.signer.publicJwk, name: 'x', clientUrl: `${base}/verifiers/bibliothek`, did: rpDid, now: now - 40 * 86_400_000, days: 30 });
    rp.x5c = leaf.x5c;
    rp.clientId = `x509_hash:${x509Hash(Buffer.from(leaf.x5c[0]!, 'base64'))}`;
    const { link } = await publish(rp, 'expired');
    expect((await refusal(preparePresentation(ctx, link)))?.code).toBe('invalid_request');
  });

  it('refuses a certificate that does not name the host the response would go to', async () => {
    const rp = relyingParty();
    const leaf = await issueRelyingPartyCertificate(ca, { publicJwk: rp.identity.signer.publicJwk, name: 'x', clientUrl: 'https://bibliothek.example/verifiers/bibliothek', did: rpDid, now });
    rp.x5c = leaf.x5c;
    rp.clientId = `x509_hash:${x509Hash(Buffer.from(leaf.x5c[0]!, 'base64'))}`;
    const { link } = await publish(rp, 'other-host');
    const err = await refusal(preparePresentation(ctx, link));
    expect(err?.code).toBe('untrusted_certificate');
    expect(err?.message).toContain('Zertifikat der Stadt');
  });

  it('refuses an x509_hash request in a wallet that trusts no city CA', async () => {
    const rp = relyingParty();
    await useX509Hash(ca, rp, base, now);
    const { link } = await publish(rp, 'no-anchors');
    const bare = { ...ctx, trustedCas: undefined } as WalletContext;
    delete (bare as { trustedCas?: unknown }).trustedCas;
    expect((await refusal(preparePresentation(bare, link)))?.code).toBe('invalid_request');
  });
});
