import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, generateKeyPair, SignJWT, decodeJwt } from 'jose';
import { checkAndStore, receive } from '../../wallet-demo/core/receive.ts';
import { newHolderKey, openWallet, type WalletContext } from '../../wallet-demo/core/wallet.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Issue 18: the wallet verifies every VC-JWT it receives like the verifier does (the one
 * verification in core/formats/vc-jwt/verify-vc-jwt.ts) and refuses a forged or unsigned one with a
 * clear German/English message, storing nothing.
 */
const CARD = { ausweisnummer: 'LSB-2468', nutzergruppe: 'erwachsen', gueltig_bis: '2028-12-31', vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01' };

describe('wallet: VC-JWT checked on receipt', () => {
  let stack: Stack;
  let ctx: WalletContext;
  let genuine: { raw: string; keyId: string };
  beforeAll(async () => {
    stack = await startStack();
    ctx = await openWallet({ dir: mkdtempSync(join(tmpdir(), 'idideal-wallet-recv-')), passphrase: 'korrekt-pferd-batterie', registryUrl: stack.urls.registry, allowLocalHttp: true });
    const offer = await (await stack.admin('issuer', '/api/offices/bibliothek/offers', { credential_configuration_id: 'bibliotheksausweis_jwt_vc', claims: CARD })).json();
    const r = await receive(ctx, offer.credential_offer, offer.tx_code);
    expect(r.credentials.length).toBeGreaterThan(0);
    genuine = { raw: r.credentials[0]!.raw, keyId: r.credentials[0]!.keyId };
  });
  afterAll(async () => {
    await stack?.close();
  });

  const count = () => ctx.store.snapshot.credentials.length;
  const refused = async (raw: string, keyId = genuine.keyId) => {
    const before = count();
    const err = await checkAndStore(ctx, 'jwt_vc_json', raw, keyId, 'g', []).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err, 'accepted').toBeDefined();
    expect(count(), 'stored anyway').toBe(before);
    expect(err!.code).toBe('invalid_credential');
    // German / English, and it says nothing was kept.
    expect(err!.message).toMatch(/ \/ /);
    expect(err!.message).toContain('Nichts wurde gespeichert. / Nothing was stored.');
    return err!.message;
  };

  it('stores a genuine VC-JWT from the office (control)', async () => {
    const before = count();
    await checkAndStore(ctx, 'jwt_vc_json', genuine.raw, genuine.keyId, 'g', []);
    expect(count()).toBe(before + 1);
  });

  it('refuses a VC-JWT signed with a key that is not the office’s (same kid, same claims)', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(decodeJwt(genuine.raw)).setProtectedHeader(decodeProtectedHeader(genuine.raw) as never).sign(privateKey);
    expect(await refused(forged)).toMatch(/^Die Signatur des erhaltenen Nachweises ist ungültig.* \/ The signature of the credential received is invalid/);
  });

  it('refuses an unsigned (alg: none) VC-JWT', async () => {
    const [, payload] = genuine.raw.split('.');
    const header = Buffer.from(JSON.stringify({ ...decodeProtectedHeader(genuine.raw), alg: 'none' })).toString('base64url');
    expect(await refused(`${header}.${payload}.`)).toMatch(/unzulässigen Verfahren signiert.* \/ The credential received is unsigned or signed with an algorithm that is not allowed/);
  });

  it('refuses a tampered claim, and a genuine credential bound to another key', async () => {
    const [h, , s] = genuine.raw.split('.');
    const p = decodeJwt(genuine.raw) as { vc: { credentialSubject: Record<string, unknown> } };
    p.vc.credentialSubject.nutzergruppe = 'ermaessigt';
    await refused(`${h}.${Buffer.from(JSON.stringify(p)).toString('base64url')}.${s}`);
    const other = await newHolderKey(ctx);
    expect(await refused(genuine.raw, other.id)).toMatch(/nicht an diese Wallet gebunden/);
  });
});
