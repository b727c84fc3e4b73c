import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { deriveClaims } from '../../core/catalog/claims-schema.ts';
import { notFound } from '../../core/http/errors.ts';
import { parseOrThrow } from '../../core/http/validate.ts';
import { toIso } from '../../core/util/time.ts';
import type { IssuerDeps, Office } from '../deps.ts';
import type { OfferRow } from '../store/schema.ts';

export const zCreateOffer = z.strictObject({
  credential_configuration_id: z.string().min(1).max(100),
  claims: z.record(z.string(), z.unknown()),
  /** `manual`: issued only after a clerk approves (deferred issuance, OID4VCI 1.0 §9). */
  approval: z.enum(['auto', 'manual']).default('auto'),
  /** Seconds the offer stays open; default from ISSUER_OFFER_TTL. At most 7 days (letters by post). */
  expires_in: z.number().int().min(60).max(7 * 86_400).optional(),
});

export interface CreatedOffer {
  offer_id: string;
  credential_offer: string;
  credential_offer_uri: string;
  tx_code: string;
  expires_at: string;
}

export const offerUri = (office: Office, offerId: string) => `${office.issuerId}/credential-offers/${offerId}`;

/**
 * A clerk's offer: validates the claims against the type's compiled schema from the catalogue (400
 * naming the field), computes its derived claims (a sent value that disagrees is a 400 naming it),
 * seals them — the offer keeps these claims even if the type changes later — and returns the offer by reference (OID4VCI 1.0 §4.1.3) with a six-digit tx_code (§4.1.1)
 * that the clerk hands over separately.
 */
export async function createOffer(deps: Pick<IssuerDeps, 'store' | 'sealer' | 'codes' | 'clock' | 'settings'>, office: Office, body: unknown, actor: string): Promise<CreatedOffer> {
  const input = parseOrThrow(zCreateOffer, body);
  const configuration = office.configurations.get(input.credential_configuration_id);
  if (!configuration) throw notFound('unknown-credential-configuration', `Office ${office.slug} does not offer ${input.credential_configuration_id}.`);
  const claims = parseOrThrow(configuration.claims, input.claims, { what: 'request body', fieldPrefix: 'claims' }) as Record<string, unknown>;
  const now = deps.clock();
  // e.g. `alter_ueber_18` from `geburtsdatum` on the day of the offer (core/catalog/claims-schema.ts).
  deriveClaims(configuration.type, claims, now);

  const id = randomUUID();
  const expiresAt = now + (input.expires_in ?? deps.settings.offerTtl) * 1000;
  const txCode = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const codeHash = deps.codes.codeHash(deps.codes.preAuthorizedCode(id));
  const row: OfferRow = {
    id,
    office: office.slug,
    configuration_id: configuration.id,
    claims_sealed: deps.sealer.seal(JSON.stringify(claims), id),
    pre_auth_code_hash: codeHash,
    tx_code_hash: deps.codes.txCodeHash(codeHash, txCode),
    tx_code_failures: 0,
    approval: input.approval,
    approved_at: null,
    state: 'pending',
    created_at: toIso(now),
    expires_at: expiresAt,
  };
  // One transaction with its audit entry (without the claims): a crash leaves both or neither.
  await deps.store.insertOffer(row, { at: toIso(now), actor, action: 'offer.create', target: id, details: { office: office.slug, configuration: configuration.id, approval: input.approval } });
  const uri = offerUri(office, id);
  return {
    offer_id: id,
    credential_offer: `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(uri)}`,
    credential_offer_uri: uri,
    tx_code: txCode,
    expires_at: toIso(expiresAt),
  };
}

/** Constant-time comparison of hex digests. */
export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
