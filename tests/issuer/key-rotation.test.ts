import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { MELDE } from '../helpers/fixtures.ts';
import { postResponse, present, receiveCredential, resolveRequest } from '../helpers/holder.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/** Key rotation: old and new keys in the did:web; old signatures valid until the old key is revoked as compromised. */
describe('office key rotation', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  const verify = async (c: Awaited<ReturnType<typeof receiveCredential>>) => {
    const r = await (await stack.admin('verifier', '/api/verifiers/buergerbuero/requests', { template: 'meldebescheinigung' })).json();
    const req = await resolveRequest(r.authorization_request);
    await postResponse(req, { meldebescheinigung: [await present(c.credential, c.key, req, 'meldebescheinigung')] });
    const out = await (await stack.admin('verifier', `/api/verifiers/buergerbuero/requests/${r.request_id}`)).json();
    // A presentation that does not verify leaves the request pending with its reason codes (verifier/last-attempt.ts).
    return out.status === 'verified' ? 'verified' : (out.last_attempt?.errors?.[0]?.code ?? out.result?.errors?.[0]?.code);
  };
  const didDoc = async () => (await fetch(`${stack.urls.issuer}/offices/buergerbuero/did.json`)).json();

  it('rotates, keeps old credentials valid, and rejects them once the old key is revoked as compromised', async () => {
    const old = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    const oldKid = String(decodeProtectedHeader(old.credential.split('~')[0]!).kid);
    const rotated = await stack.admin('issuer', '/api/offices/buergerbuero/keys/rotate', {});
    expect(rotated.status).toBe(201);
    const view = await rotated.json();
    expect(view.keys).toHaveLength(2);
    expect(view.current).not.toBe(oldKid);
    expect((await didDoc()).verificationMethod.map((v: { id: string }) => v.id)).toEqual([oldKid, view.current]);

    const fresh = await receiveCredential(stack, 'buergerbuero', 'meldebescheinigung_sd_jwt', MELDE);
    expect(decodeProtectedHeader(fresh.credential.split('~')[0]!).kid).toBe(view.current);
    expect(await verify(old)).toBe('verified');
    expect(await verify(fresh)).toBe('verified');

    // Compromised since a minute ago: from then on nothing signed with it counts.
    const fragment = oldKid.split('#')[1]!;
    const compromisedAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const rev = await stack.admin('issuer', `/api/offices/buergerbuero/keys/${fragment}/revoke`, { reason: 'Schlüssel kompromittiert / key compromised', effective_at: compromisedAt });
    expect(rev.status).toBe(200);
    const vm = (await didDoc()).verificationMethod.find((v: { id: string }) => v.id === oldKid);
    expect(vm.revoked).toBe(compromisedAt);
    expect(await verify(old)).toBe('invalid_signature');
    expect(await verify(fresh)).toBe('verified');

    // The last good key cannot be revoked; a revoked key cannot be revoked again.
    const last = await stack.admin('issuer', `/api/offices/buergerbuero/keys/${String(view.current).split('#')[1]}/revoke`, { reason: 'versehentlich / by mistake' });
    expect(last.status).toBe(409);
    expect((await stack.admin('issuer', `/api/offices/buergerbuero/keys/${fragment}/revoke`, { reason: 'nochmal / again' })).status).toBe(409);
    const audit = (await (await stack.admin('issuer', '/api/audit')).json()).entries.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['key.rotate', 'key.revoke']));
  });
});
