import type { JWK } from 'jose';
import { z } from 'zod';
import { zDid, zI18nText, zUtcDateTime } from '../http/validate.ts';

/**
 * The trust registry's data model, shared by the registry (which writes it), and by the verifier
 * and wallet (which read it from signed snapshots). Grants follow the PARC model of TRQP v2:
 * `authority_id` lets `entity_id` do `action` on `resource`.
 */

export const ACTIONS = ['issue', 'verify', 'accredit'] as const;
export type Action = (typeof ACTIONS)[number];
/** Actions an accreditation may hand on to the accredited authority's grantees. */
export const DELEGABLE = ['issue', 'verify'] as const;
export type DelegableAction = (typeof DELEGABLE)[number];

export const GRANT_STATUSES = ['active', 'suspended', 'revoked'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

export const ENTITY_KINDS = ['authority', 'issuer', 'verifier'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export type I18nText = z.infer<typeof zI18nText>;

/** A claim path as in DCQL (OID4VP 1.0 §7.1.1): names of nested members, `null` for all array elements. */
export const zClaimPath = z.array(z.union([z.string().min(1).max(100), z.null()])).min(1).max(8);
export type ClaimPath = z.infer<typeof zClaimPath>;

export const zGrantConstraints = z.strictObject({
  /** verify: the claims this relying party may ask for. */
  claims: z.array(zClaimPath).max(100).optional(),
  /** verify: why it asks, shown to the citizen. */
  purpose: zI18nText.optional(),
  /** accredit: the actions the accredited authority may grant on. */
  actions: z.array(z.enum(DELEGABLE)).min(1).max(2).optional(),
  /** accredit: how many further levels of accreditation it may create (0: none). */
  max_depth: z.number().int().min(0).max(5).optional(),
});
export type GrantConstraints = z.infer<typeof zGrantConstraints>;

export interface StatusEvent {
  status: GrantStatus;
  reason: string;
  effective_at: string;
  recorded_at: string;
}

export interface Grant {
  id: string;
  authority_id: string;
  entity_id: string;
  action: Action;
  /** A credential type (`vct`), or for `accredit` a pattern: exact, `prefix*` or `*`. */
  resource: string;
  valid_from: string;
  valid_until: string | null;
  constraints: GrantConstraints;
  /** Compact JWS (`typ: trust-grant+jwt`) by the authority over the grant. */
  statement: string;
  /** Status changes, append-only, in the order they were recorded. The grant starts `active`. */
  history: StatusEvent[];
}

export interface Entity {
  id: string;
  kind: EntityKind;
  name: I18nText;
  /** Public keys for entities whose statements the registry checks without resolving their DID. */
  jwks?: JWK[];
}

export interface CredentialType {
  vct: string;
  name: I18nText;
  /**
   * What a verifier does with a credential issued before its issuer's grant was suspended:
   * `accept` for documents that stay true (a birth certificate), `reject` for entitlements.
   */
  issued_before_suspension: 'accept' | 'reject';
  /** W3C VC `type` values that map to this credential type (VC-JWT). */
  w3c_types?: string[];
  /**
   * SD-JWT VC `vct#integrity` of the type's metadata the registry serves at `/vct/<id>` (issue 15):
   * present for types with a full definition, so a wallet can check metadata it fetched elsewhere.
   */
  'vct#integrity'?: string;
}

/** Everything an evaluation needs: what a signed snapshot carries. */
export interface RegistryState {
  /** The ecosystem's root authority (the city). */
  authority_id: string;
  entities: Entity[];
  grants: Grant[];
  credential_types: CredentialType[];
}

export const zTrqpContext = z.looseObject({ time: zUtcDateTime.optional() });

/** TRQP v2 authorization query (core/schema/trqp_authorization_request). */
export const zTrqpAuthorizationRequest = z.looseObject({
  entity_id: zDid,
  authority_id: zDid,
  action: z.string().min(1).max(64),
  resource: z.string().min(1).max(512),
  context: zTrqpContext.optional(),
});
export type TrqpAuthorizationRequest = z.infer<typeof zTrqpAuthorizationRequest>;

/** TRQP v2 recognition query: action and resource narrow what the authority is recognized for. */
export const zTrqpRecognitionRequest = z.looseObject({
  entity_id: zDid,
  authority_id: zDid,
  action: z.string().min(1).max(64).optional(),
  resource: z.string().min(1).max(512).optional(),
  context: zTrqpContext.optional(),
});
export type TrqpRecognitionRequest = z.infer<typeof zTrqpRecognitionRequest>;
