import { decodeJwtHeader } from '@openid4vc/oauth2';
import { ProtocolError } from '../../core/http/errors.ts';
import { toSeconds } from '../../core/util/time.ts';
import type { CredentialConfiguration } from '../credential-configurations.ts';
import type { IssuerDeps } from '../deps.ts';
import type { Libraries } from '../oid4vci-lib.ts';
import { attestationLibraries } from './wallet-attestation.ts';

/**
 * Key attestations in `jwt` key proofs (OID4VCI 1.0 Appendix D, F.1 `key_attestation` header).
 * The library verifies the attestation's form, its signature (through the x5c-aware callback of
 * wallet-attestation.ts: the chain must lead to a trusted wallet provider / attestation issuer CA),
 * `exp` and that the proof key is among `attested_keys`; here: the exact `typ`, ES256, the `nonce`,
 * and the configuration's `key_attestations_required` (§12.2.4).
 */

type Deps = Pick<IssuerDeps, 'offices' | 'walletProviders' | 'clock' | 'store' | 'logger'>;
const invalidProof = (d: string) => new ProtocolError('invalid_proof', d, 400);
const CLOCK_SKEW_S = 60;

/** Whether a proof carries a `key_attestation` header (undecodable proofs are left to the proof checks). */
export function hasKeyAttestation(proof: string): boolean {
  try {
    return typeof (decodeJwtHeader({ jwt: proof }).header as Record<string, unknown>).key_attestation === 'string';
  } catch {
    return false;
  }
}

/**
 * The proof verifier for a proof: proofs with a key attestation go through the library instance whose
 * callbacks verify `x5c` chains against the wallet provider CAs; all others through the issuer's own.
 */
export function proofVerifier(deps: Deps, libs: Libraries, proof: string): Libraries['issuer'] {
  return hasKeyAttestation(proof) ? attestationLibraries(deps).issuer : libs.issuer;
}

type KeyAttestationResult = Awaited<ReturnType<Libraries['issuer']['verifyCredentialRequestJwtProof']>>['keyAttestation'];

/**
 * Our checks on a proof's (library-verified) key attestation, and the configuration's requirement:
 * a configuration with `key_attestations_required` takes only proofs with a key attestation whose
 * `key_storage` and `user_authentication` name an accepted value each (Appendix D.2).
 */
export function checkKeyAttestation(deps: Pick<IssuerDeps, 'clock'>, configuration: CredentialConfiguration, keyAttestation: KeyAttestationResult, cNonce: string): void {
  const required = configuration.keyAttestationsRequired;
  if (!keyAttestation) {
    if (required) throw invalidProof('This credential requires a key attestation (key_attestation in the proof header, OID4VCI 1.0 Appendix D).');
    return;
  }
  const { header, payload } = keyAttestation;
  // Appendix D.1: typ MUST be key-attestation+jwt (the library also takes an older draft's `keyattestation+jwt`).
  if (header.typ !== 'key-attestation+jwt') throw invalidProof('The key attestation typ must be key-attestation+jwt.');
  if (header.alg !== 'ES256') throw invalidProof('The key attestation must be signed with ES256.');
  if (!Array.isArray((header as Record<string, unknown>).x5c)) throw invalidProof('The key attestation must carry the certificate chain of its issuer (x5c).');
  const now = toSeconds(deps.clock());
  // Appendix D.1: exp MUST be present with the jwt proof type; the library checks it against its own clock, we against ours.
  if (typeof payload.exp !== 'number' || payload.exp <= now) throw invalidProof('The key attestation has expired.');
  if (typeof payload.iat !== 'number' || payload.iat > now + CLOCK_SKEW_S) throw invalidProof('The key attestation iat is in the future.');
  // Appendix F.1: "If the Credential Issuer provided a c_nonce, the nonce claim in the key attestation MUST be set to" it.
  if (payload.nonce !== undefined && payload.nonce !== cNonce) throw invalidProof('The key attestation nonce is not the c_nonce of this proof.');
  if (!required) return;
  const accepts = (claimed: unknown, accepted: string[] | undefined) => !accepted || (Array.isArray(claimed) && claimed.some((v) => accepted.includes(v as string)));
  if (!accepts(payload.key_storage, required.key_storage)) throw invalidProof(`The key attestation's key_storage does not meet the requirement (${required.key_storage!.join(', ')}).`);
  if (!accepts(payload.user_authentication, required.user_authentication)) throw invalidProof(`The key attestation's user_authentication does not meet the requirement (${required.user_authentication!.join(', ')}).`);
}
