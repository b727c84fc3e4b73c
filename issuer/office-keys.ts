import { conflict, notFound } from '../core/http/errors.ts';
import { addDidWebKey, loadDidWebIdentity, type DidIdentity } from '../core/keys/did-identity.ts';
import type { KeyAgentParts } from '../core/keys/agent.ts';
import type { HostedIdentities } from '../core/service/did-host.ts';
import { toIso } from '../core/util/time.ts';
import type { IssuerDeps, Office } from './deps.ts';
import { VcJwtIssuer } from '../core/formats/vc-jwt/vc-jwt-issuer.ts';

/**
 * Key rotation of the offices (issue: "an office rotates its signing key; its did:web lists old and
 * new; credentials signed with the old key keep verifying until that key is revoked as compromised,
 * and from its effective time they are rejected"). The key table orders the keys and records
 * revocations; the DID document marks a revoked key with `revoked` (Controlled Identifiers 1.0
 * §2.2.1), which every verifier here honours through resolveAssertionKey.
 *
 * A rotation reloads the identity in this process; other processes pick it up through
 * refreshChangedKeys. A new office gets its key when the catalogue stores it (issuer/catalog/),
 * and other processes load that key when their catalogue refresh finds the office.
 */
export async function loadOfficeIdentity(deps: Pick<IssuerDeps, 'store' | 'clock'>, keys: KeyAgentParts, office: string, did: string): Promise<DidIdentity> {
  const rows = await deps.store.officeKeys(office);
  const identity = await loadDidWebIdentity(keys, did, {
    order: rows.map((r) => r.veramo_kid),
    revocations: rows.filter((r) => r.revoked_at).map((r) => ({ fragment: r.fragment, revoked: r.revoked_at! })),
  });
  // First start: record the keys the identity has.
  for (const ref of identity.keyRefs) {
    if (!rows.some((r) => r.fragment === ref.fragment)) await deps.store.insertOfficeKey({ fragment: ref.fragment, office, veramo_kid: ref.veramoKid, created_at: new Date(deps.clock()).toISOString(), revoked_at: null, reason: null });
  }
  return identity;
}

/**
 * Other processes (ISSUER_WORKERS, several instances) learn of a rotation or revocation from the key
 * table: each calls this periodically and reloads an office whose keys changed.
 */
export async function refreshChangedKeys(deps: IssuerDeps, hosted: HostedIdentities, seen: Map<string, string>): Promise<void> {
  for (const o of deps.offices.values()) {
    const fingerprint = JSON.stringify(await deps.store.officeKeys(o.slug));
    const before = seen.get(o.slug);
    seen.set(o.slug, fingerprint);
    if (before !== undefined && before !== fingerprint) await reload(deps, hosted, o);
  }
}

async function reload(deps: IssuerDeps, hosted: HostedIdentities, o: Office): Promise<void> {
  o.identity = await loadOfficeIdentity(deps, hosted.keys, o.slug, o.identity.did);
  hosted.identities.set(o.slug, o.identity);
  deps.vcJwt = await VcJwtIssuer.create([...deps.offices.values()].map((x) => x.identity), deps.resolver);
}

export async function rotateKey(deps: IssuerDeps, hosted: HostedIdentities, o: Office, actor: string) {
  const veramoKid = await addDidWebKey(hosted.keys, o.identity.did);
  const before = new Set(o.identity.keyRefs.map((k) => k.fragment));
  const fresh = await loadDidWebIdentity(hosted.keys, o.identity.did);
  const added = fresh.keyRefs.find((k) => k.veramoKid === veramoKid && !before.has(k.fragment))!;
  // Strictly later than every existing key, so the order is unambiguous.
  await deps.store.insertOfficeKey({ fragment: added.fragment, office: o.slug, veramo_kid: veramoKid, created_at: new Date(Math.max(deps.clock(), ...(await deps.store.officeKeys(o.slug)).map((r) => Date.parse(r.created_at) + 1))).toISOString(), revoked_at: null, reason: null });
  await deps.store.audit({ at: toIso(deps.clock()), actor, action: 'key.rotate', target: `${o.identity.did}#${added.fragment}`, details: { office: o.slug } });
  await reload(deps, hosted, o);
  return keyView(deps, o);
}

export async function revokeKey(deps: IssuerDeps, hosted: HostedIdentities, o: Office, fragment: string, at: string, reason: string, actor: string) {
  const rows = await deps.store.officeKeys(o.slug);
  const row = rows.find((r) => r.fragment === fragment);
  if (!row) throw notFound('unknown-key', `Office ${o.slug} has no key ${fragment}.`);
  if (row.revoked_at) throw conflict('key-revoked', 'The key is already revoked.');
  if (!rows.some((r) => r.fragment !== fragment && !r.revoked_at)) throw conflict('last-key', 'Rotate first: the office would be left without a signing key.');
  await deps.store.revokeOfficeKey(o.slug, fragment, at, reason, { at: toIso(deps.clock()), actor, action: 'key.revoke', target: `${o.identity.did}#${fragment}`, details: { office: o.slug, effective_at: at, reason } });
  await reload(deps, hosted, o);
  return keyView(deps, o);
}

export async function keyView(deps: Pick<IssuerDeps, 'store'>, o: Office) {
  const rows = await deps.store.officeKeys(o.slug);
  return {
    current: o.identity.signer.kid,
    keys: rows.map((r) => ({ kid: `${o.identity.did}#${r.fragment}`, created_at: r.created_at, ...(r.revoked_at ? { revoked_at: r.revoked_at, reason: r.reason } : {}) })),
  };
}
