import { describe, expect, it } from 'vitest';
import { jcs } from '../../core/crypto/canonical.ts';
import { zCredentialTypeDef, zOfficeDef } from '../../core/catalog/model.ts';
import { compileType, configurationsFor } from '../../issuer/credential-configurations.ts';
import type { Office } from '../../issuer/deps.ts';
import { w3cConfigurationFor } from '../../issuer/use-cases/vc-api-policy.ts';

/**
 * VC-API issuance signs the claims as sent (issuer/use-cases/issue-vc-api.ts), so the catalogue's
 * derived claims must be sent there, with the value the rule gives: the claims schema the policy
 * hands out checks that, naming the claim. Built from catalogue definitions, not Leipzig code.
 */
const type = zCredentialTypeDef.parse({
  id: 'archivausweis',
  vct: 'urn:id-ideal:vct:archivausweis',
  name: { de: 'Archivausweis', en: 'Archive reader card' },
  validity_days: 365,
  w3c_type: 'Archivausweis',
  claims: [
    { name: 'geburtsdatum', type: 'date', label: { de: 'Geburtsdatum', en: 'Date of birth' } },
    { name: 'volljaehrig', type: 'boolean', label: { de: 'Volljährig', en: 'Of age' }, derived: { rule: 'age_at_least', from: 'geburtsdatum', years: 18 } },
  ],
});
const officeDef = zOfficeDef.parse({ slug: 'stadtarchiv', name: { de: 'Stadtarchiv', en: 'City archives' }, department: 'dezernat-kultur', credential_configurations: [{ id: 'archivausweis_jwt_vc', type: 'archivausweis', format: 'jwt_vc_json' }] });
const office = { slug: 'stadtarchiv', configurations: new Map(configurationsFor(officeDef, new Map([['archivausweis', compileType(type, jcs(type))]])).map((c) => [c.id, c])) } as unknown as Office;

describe('VC-API claims schema of a catalogue type with a derived claim', () => {
  const schema = w3cConfigurationFor(office, type.vct).claims!;

  it('accepts the derived claim sent with the value its rule gives', () => {
    expect(schema.safeParse({ geburtsdatum: '1990-04-01', volljaehrig: true }).success).toBe(true);
  });

  it('refuses it with another value or left out, naming the claim', () => {
    for (const claims of [{ geburtsdatum: '1990-04-01', volljaehrig: false }, { geburtsdatum: '2015-04-01', volljaehrig: true }, { geburtsdatum: '1990-04-01' }]) {
      const r = schema.safeParse(claims);
      expect(r.success, JSON.stringify(claims)).toBe(false);
      if (!r.success) expect(r.error.issues[0]!.path).toEqual(['volljaehrig']);
    }
  });

  it('is built once per type version, not per request', () => {
    expect(w3cConfigurationFor(office, type.vct).claims).toBe(schema);
  });
});
