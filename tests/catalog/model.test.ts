import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileClaimsSchema, deriveClaims, disclosablePaths } from '../../core/catalog/claims-schema.ts';
import { parseCityConfig } from '../../core/catalog/load-file.ts';
import { claimPathsOf, zCredentialTypeDef } from '../../core/catalog/model.ts';
import { typeMetadata, typeMetadataBytes, typeMetadataIntegrity } from '../../core/catalog/type-metadata.ts';
import { LEIPZIG, LEIPZIG_CONFIG_FILE } from '../../core/demo/leipzig.ts';
import { readFileSync } from 'node:fs';
import { ProblemError } from '../../core/http/errors.ts';

const melde = LEIPZIG.credential_types.find((t) => t.id === 'meldebescheinigung')!;
const ERIKA = { vorname: 'Erika', familienname: 'Mustermann', geburtsdatum: '1990-04-01', anschrift: { strasse: 'Markt', hausnummer: '1', postleitzahl: '04109', ort: 'Leipzig' } };
const DAY = Date.UTC(2026, 11, 4);

const problem = (f: () => unknown): ProblemError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ProblemError) return e;
    throw e;
  }
  throw new Error('no problem raised');
};

describe('city configuration model (issue 15)', () => {
  it('reads Demo Leipzig from its YAML file: four types, four offices, two counters', () => {
    expect(LEIPZIG.credential_types.map((t) => t.id)).toEqual(['meldebescheinigung', 'leipzig_pass', 'bibliotheksausweis', 'geburtsurkunde']);
    expect(LEIPZIG.offices.map((o) => o.slug)).toEqual(['buergerbuero', 'sozialamt', 'bibliothek', 'standesamt']);
    expect(LEIPZIG.relying_parties.map((r) => r.slug)).toEqual(['bibliothek', 'buergerbuero']);
    expect(claimPathsOf(melde).map((p) => p.join('.'))).toContain('anschrift.postleitzahl');
  });

  it('refuses a file that names an unknown type, department or a duplicate, naming the field', () => {
    const text = readFileSync(LEIPZIG_CONFIG_FILE, 'utf8');
    const e = problem(() => parseCityConfig(text.replace('type: leipzig_pass, format', 'type: leipzig_passport, format')));
    expect(e.detail).toContain('unknown type leipzig_passport');
    expect(problem(() => parseCityConfig(text.replace('department: dezernat-kultur', 'department: dezernat-nirgends'))).detail).toContain('unknown department');
    expect(problem(() => parseCityConfig(text.replace('vct: urn:id-ideal:vct:geburtsurkunde', 'vct: urn:id-ideal:vct:meldebescheinigung'))).detail).toContain('appears twice');
    expect(problem(() => parseCityConfig(`${text}\nsurprise: 1\n`)).extra.field).toBe('surprise');
    // A type whose derived claim reads a claim that does not exist.
    const bad = zCredentialTypeDef.safeParse({ ...melde, claims: [...melde.claims.filter((c) => c.name !== 'geburtsdatum')] });
    expect(bad.success).toBe(false);
  });

  it('limits YAML aliases so a small file cannot expand into a huge one', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(() => parseCityConfig(bomb)).toThrow(/alias/i);
  });

  it('validates claims with the compiled schema: patterns anchored, unknown members refused', () => {
    const s = compileClaimsSchema(melde);
    expect(s.safeParse(ERIKA).success).toBe(true);
    const r = s.safeParse({ ...ERIKA, anschrift: { ...ERIKA.anschrift, postleitzahl: '04109x' } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toContain('five-digit');
    expect(s.safeParse({ ...ERIKA, sozialleistung: 'SGB II' }).success).toBe(false);
    expect(s.safeParse({ ...ERIKA, geburtsdatum: '1990-02-30' }).success).toBe(false);
  });

  it('computes derived claims on the day of issuance, and refuses a sent value that disagrees', () => {
    const s = compileClaimsSchema(melde);
    const adult = deriveClaims(melde, s.parse(ERIKA), DAY);
    expect(adult).toMatchObject({ alter_ueber_18: true, wohnsitz_leipzig: true });
    // Eighteen tomorrow: not yet.
    const child = deriveClaims(melde, s.parse({ ...ERIKA, geburtsdatum: '2008-12-05', anschrift: { ...ERIKA.anschrift, ort: 'Markkleeberg' } }), DAY);
    expect(child).toMatchObject({ alter_ueber_18: false, wohnsitz_leipzig: false });
    expect(deriveClaims(melde, s.parse({ ...ERIKA, geburtsdatum: '2008-12-04' }), DAY).alter_ueber_18).toBe(true);
    expect(deriveClaims(melde, s.parse({ ...ERIKA, anschrift: { ...ERIKA.anschrift, ort: ' leipzig ' } }), DAY).wohnsitz_leipzig).toBe(true);
    const e = problem(() => deriveClaims(melde, s.parse({ ...ERIKA, geburtsdatum: '2015-01-01', alter_ueber_18: true }), DAY));
    expect(e.extra.field).toBe('claims.alter_ueber_18');
    expect(problem(() => deriveClaims(melde, s.parse({ ...ERIKA, geburtsdatum: '2030-01-01' }), DAY)).extra.field).toBe('claims.geburtsdatum');
  });

  it('makes every claim disclosable except those marked sd: never, nested members too', () => {
    expect(disclosablePaths(melde).map((p) => p.join('.'))).toEqual(claimPathsOf(melde).map((p) => p.join('.')));
    const t = zCredentialTypeDef.parse({ ...melde, claims: melde.claims.map((c) => (c.name === 'familienname' ? { ...c, sd: 'never' } : c)) });
    expect(disclosablePaths(t).map((p) => p.join('.'))).not.toContain('familienname');
  });

  it('builds SD-JWT VC Type Metadata with German and English display, and its integrity over the served octets', () => {
    const doc = typeMetadata(melde);
    expect(doc.vct).toBe(melde.vct);
    expect(doc.display.find((d) => d.locale === 'de-DE')!.name).toBe('Meldebescheinigung');
    const fam = doc.claims.find((c) => c.path.join('.') === 'familienname')!;
    expect(fam.display).toEqual([
      { locale: 'de-DE', label: 'Familienname' },
      { locale: 'en-US', label: 'Family name' },
    ]);
    expect(fam).toMatchObject({ mandatory: true, sd: 'always' });
    const bytes = typeMetadataBytes(melde);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(doc);
    expect(typeMetadataIntegrity(melde)).toBe(`sha256-${createHash('sha256').update(bytes).digest('base64')}`);
    // Any change to the definition changes the integrity value.
    expect(typeMetadataIntegrity({ ...melde, name: { ...melde.name, en: 'Registration certificate' } })).not.toBe(typeMetadataIntegrity(melde));
  });
});
