import { signJwt } from '../core/crypto/jws.ts';
import { conflict, notFound, ProblemError } from '../core/http/errors.ts';
import { evaluateAuthorization, type TrustIndex, type TrustReason } from '../core/trust/evaluate.ts';
import type { ClaimPath, I18nText } from '../core/trust/model.ts';
import { toSeconds } from '../core/util/time.ts';
import type { Registry } from './registry.ts';

/**
 * The registration attestation of a relying party (issue 17, HAIP 1.0): what the registry holds about
 * a counter's `verify` grants, signed with the registry's key (the one that signs snapshots and TRQP
 * answers), for the verifier to send in its Request Object as OID4VP 1.0 §5.1 `verifier_info`
 * (`{format: "jwt", data: <this>}`, §"Verifier Info": "a registration certificate issued by a trusted
 * authority"), so that a wallet can check over-asking offline.
 *
 * The EU's registration certificate (ETSI TS 119 475) is not among the specifications this repository
 * was built against, so the format is our own and says so by its `typ`: `verifier-registration+jwt`
 * (RFC 8725 §3.11 explicit typing). Only what the registry holds, evaluated with the same function as
 * its TRQP answers (core/trust/evaluate.ts). docs/contract.md "Trust registry".
 */
export const VERIFIER_REGISTRATION_TYP = 'verifier-registration+jwt';

/** Lifetime of an attestation: short, so a suspension reaches offline wallets within a day. */
export const VERIFIER_REGISTRATION_TTL_SECONDS = 24 * 3600;

export interface RegisteredCredential {
  /** The credential type (SD-JWT VC `vct`) the relying party may ask for. */
  vct: string;
  /** W3C VC `type` values that map to this type (VC-JWT queries name these, not the vct). */
  w3c_types?: string[];
  /** Claim paths (DCQL, OID4VP 1.0 §7.1.1) it may ask; absent: the grant does not restrict claims. */
  claims?: ClaimPath[];
  /** Why it asks, as registered, shown to the citizen. */
  purpose?: I18nText;
}

export interface VerifierRegistrationPayload {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  /** The ecosystem's root authority (the city) the grants lead to. */
  authority_id: string;
  /** The relying party's registered name. */
  name: I18nText;
  /** The registry's status of the registration: only `active` registrations are attested. */
  status: 'active';
  credentials: RegisteredCredential[];
}

/** Why the registry attests nothing: the problem it answers (404 unknown / not registered, 409 suspended or revoked). */
function refusal(reasons: TrustReason[]): ProblemError {
  if (reasons.includes('revoked')) return conflict('registration-revoked', 'The registration of this relying party is revoked; no attestation is issued.');
  if (reasons.includes('suspended')) return conflict('registration-suspended', 'The registration of this relying party is suspended; no attestation is issued.');
  if (reasons.includes('expired')) return conflict('registration-expired', 'The registration of this relying party has expired; no attestation is issued.');
  return notFound('no-registration', 'This relying party holds no registration in force to verify any credential type.');
}

/**
 * The payload for `entityId` at `now` (epoch ms), or the problem to answer. Each registered credential
 * type is evaluated like a TRQP `verify` authorization query to the root authority; the claims and
 * purpose are those of the leaf grant, as the verifier and the wallet read them
 * (evaluateRelyingParty). `exp` is never later than the end of any grant on the way to the root.
 */
export function registrationPayload(index: TrustIndex, registryDid: string, entityId: string, now: number, ttlSeconds = VERIFIER_REGISTRATION_TTL_SECONDS): VerifierRegistrationPayload | ProblemError {
  const entity = index.entities.get(entityId);
  if (!entity || entity.kind !== 'verifier') return notFound('unknown-relying-party', 'entity_id is not a registered relying party.');
  const credentials: RegisteredCredential[] = [];
  const reasons: TrustReason[] = [];
  const iat = toSeconds(now);
  let exp = iat + ttlSeconds;
  for (const type of index.state.credential_types) {
    const ev = evaluateAuthorization(index, { entity_id: entityId, authority_id: index.root, action: 'verify', resource: type.vct, time: now });
    if (!ev.authorized) {
      reasons.push(ev.reason);
      continue;
    }
    const leaf = ev.chain[0]!;
    for (const g of ev.chain) if (g.valid_until !== null) exp = Math.min(exp, toSeconds(Date.parse(g.valid_until)));
    credentials.push({
      vct: type.vct,
      ...(type.w3c_types?.length ? { w3c_types: type.w3c_types } : {}),
      ...(leaf.constraints.claims ? { claims: leaf.constraints.claims } : {}),
      ...(leaf.constraints.purpose ? { purpose: leaf.constraints.purpose } : {}),
    });
  }
  if (credentials.length === 0) return refusal(reasons);
  return { iss: registryDid, sub: entityId, iat, exp, authority_id: index.root, name: entity.name, status: 'active', credentials };
}

/** Signs the attestation of `entityId` now with the registry's key, or throws the problem to answer. */
export async function signRegistrationAttestation(registry: Registry, entityId: string, ttlSeconds?: number): Promise<string> {
  const { identity } = registry.deps;
  const index = await registry.index();
  const payload = registrationPayload(index, identity.did, entityId, registry.clock(), ttlSeconds);
  if (payload instanceof ProblemError) throw payload;
  return signJwt(identity.signer, { ...payload }, { typ: VERIFIER_REGISTRATION_TYP });
}
