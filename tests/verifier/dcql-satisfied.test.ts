import { describe, expect, it } from 'vitest';
import { DcqlPresentationResult, DcqlQuery } from 'dcql';
import { dcqlSatisfied, type VerifiedInput } from '../../verifier/dcql-satisfied.ts';

/**
 * Issue 16, change 11: the verifier keeps the dcql library's answer per presentation shape for
 * queries where only the presence of claims counts. Differential: for thousands of generated
 * presentations against queries of every kind the verifier can send (claim sets, credential sets,
 * nested paths, several presentations, holder binding optional, W3C types, and queries with values
 * or array paths that are never kept), the kept answer is the library's own, asked afresh each time.
 */
const VCT = 'urn:id-ideal:vct:meldebescheinigung';
const queries: Record<string, unknown> = {
  simple: { credentials: [{ id: 'mb', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['vorname'] }, { path: ['familienname'] }, { path: ['anschrift', 'ort'] }] }] },
  claimSets: {
    credentials: [{ id: 'mb', format: 'dc+sd-jwt', meta: { vct_values: [VCT, 'urn:id-ideal:vct:leipzig-pass'] }, claims: [{ id: 'v', path: ['vorname'] }, { id: 'f', path: ['familienname'] }, { id: 'g', path: ['geburtsdatum'] }], claim_sets: [['v', 'f'], ['g']] }],
  },
  credentialSets: {
    credentials: [
      { id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['vorname'] }] },
      { id: 'b', format: 'dc+sd-jwt', meta: { vct_values: ['urn:id-ideal:vct:leipzig-pass'] }, claims: [{ path: ['gueltig_bis'] }] },
      { id: 'c', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, multiple: true, require_cryptographic_holder_binding: false },
    ],
    credential_sets: [{ options: [['a'], ['b']] }, { options: [['c']], required: false }],
  },
  w3c: { credentials: [{ id: 'bib', format: 'jwt_vc_json', meta: { type_values: [['VerifiableCredential', 'Bibliotheksausweis']] }, claims: [{ path: ['credentialSubject', 'ausweisnummer'] }, { path: ['credentialSubject', 'nutzergruppe'] }] }] },
  withValues: { credentials: [{ id: 'mb', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['wohnsitz_leipzig'], values: [true] }, { path: ['vorname'] }] }] },
  arrayPath: { credentials: [{ id: 'mb', format: 'dc+sd-jwt', meta: { vct_values: [VCT] }, claims: [{ path: ['nationalities', null] }, { path: ['vorname'] }] }] },
};

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(r: () => number, query: DcqlQuery): Record<string, VerifiedInput[]> {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const leaf = () => (r() < 0.8 ? pick<unknown>(['Erika', '', 0, false, true, { x: 1 }, ['DE']]) : pick<unknown>([null, undefined]));
  const input: Record<string, VerifiedInput[]> = {};
  for (const cq of query.credentials) {
    if (r() < 0.25) continue;
    const n = r() < 0.8 ? 1 : 2;
    input[cq.id] = Array.from({ length: n }, () => {
      const claims: Record<string, unknown> = {};
      for (const name of ['vorname', 'familienname', 'geburtsdatum', 'gueltig_bis', 'wohnsitz_leipzig', 'ausweisnummer', 'nutzergruppe']) if (r() < 0.85) claims[name] = leaf();
      if (r() < 0.7) claims.anschrift = pick<unknown>([{ ort: leaf(), plz: '04109' }, { ort: 'Leipzig' }, { plz: '04109' }, 'Markt 1', null, []]);
      if (r() < 0.5) claims.nationalities = pick<unknown>([['DE'], [], 'DE', [null]]);
      const chb = r() < 0.85;
      if (cq.format === 'jwt_vc_json') {
        return { credential_format: 'jwt_vc_json', type: pick([['VerifiableCredential', 'Bibliotheksausweis'], ['VerifiableCredential'], ['Bibliotheksausweis', 'VerifiableCredential', 'X']]), claims: r() < 0.9 ? { credentialSubject: claims } : {}, cryptographic_holder_binding: chb };
      }
      return { credential_format: 'dc+sd-jwt', vct: pick([VCT, VCT, 'urn:id-ideal:vct:leipzig-pass', 'urn:other']), claims, cryptographic_holder_binding: chb };
    });
  }
  return input;
}

function library(query: DcqlQuery, input: Record<string, VerifiedInput[]>): boolean {
  try {
    return DcqlPresentationResult.fromDcqlPresentation(input as never, { dcqlQuery: query }).can_be_satisfied;
  } catch {
    return false;
  }
}

describe('dcqlSatisfied keeps the dcql library answer per presence shape', () => {
  for (const [name, raw] of Object.entries(queries)) {
    it(`gives the library's answer for 3,000 generated presentations: ${name}`, () => {
      const query = DcqlQuery.parse(raw as never);
      const r = rng(name.length * 7919 + 17);
      const seen = { true: 0, false: 0 };
      for (let i = 0; i < 3000; i++) {
        const input = generate(r, query);
        const expected = library(query, input);
        // Twice: the first call may ask the library and keep the answer, the second may take it from the memory.
        expect(dcqlSatisfied(query, input), `case ${i}: ${JSON.stringify(input)}`).toBe(expected);
        expect(dcqlSatisfied(query, input), `case ${i} again`).toBe(expected);
        seen[String(expected) as 'true' | 'false']++;
      }
      // Both answers occur, so agreeing on them says something.
      expect(seen.true).toBeGreaterThan(50);
      expect(seen.false).toBeGreaterThan(50);
    });
  }

  it('keeps no claim value: a query that needs values is never answered from memory', () => {
    const query = DcqlQuery.parse(queries.withValues as never);
    const yes = { mb: [{ credential_format: 'dc+sd-jwt' as const, vct: VCT, claims: { wohnsitz_leipzig: true, vorname: 'Erika' }, cryptographic_holder_binding: true }] };
    const no = { mb: [{ credential_format: 'dc+sd-jwt' as const, vct: VCT, claims: { wohnsitz_leipzig: false, vorname: 'Erika' }, cryptographic_holder_binding: true }] };
    expect(dcqlSatisfied(query, yes)).toBe(true);
    expect(dcqlSatisfied(query, no)).toBe(false);
    expect(dcqlSatisfied(query, yes)).toBe(true);
  });
});
