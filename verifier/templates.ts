import { VCT } from '../core/demo/leipzig.ts';

/**
 * DCQL queries (OID4VP 1.0 §6) for the demo counters (docs/contract.md, Verifier). Each asks for no more
 * than the relying party is registered for in the trust registry.
 */
const sdJwt = (id: string, vct: string, claims: string[][]) => ({
  id,
  format: 'dc+sd-jwt',
  meta: { vct_values: [vct] },
  claims: claims.map((path) => ({ path })),
});

const CARD_CLAIMS = [['ausweisnummer'], ['nutzergruppe'], ['gueltig_bis'], ['vorname'], ['familienname']];

export const TEMPLATES: Record<string, { name: { de: string; en: string }; dcql_query: Record<string, unknown> }> = {
  bibliotheksausweis: {
    name: { de: 'Bibliotheksausweis prüfen', en: 'Check library card' },
    dcql_query: {
      credentials: [
        sdJwt('bibliotheksausweis', VCT.bibliotheksausweis, CARD_CLAIMS),
        {
          id: 'bibliotheksausweis_w3c',
          format: 'jwt_vc_json',
          // Type names as they appear in our VCDM 1.1 credentials (no JSON-LD expansion: no context defines them yet).
          meta: { type_values: [['VerifiableCredential', 'Bibliotheksausweis']] },
          claims: CARD_CLAIMS.map((p) => ({ path: ['credentialSubject', ...p] })),
        },
      ],
      // Either format of the card will do.
      credential_sets: [{ options: [['bibliotheksausweis'], ['bibliotheksausweis_w3c']] }],
    },
  },
  anmeldung_bibliothek: {
    name: { de: 'Anmeldung in der Bibliothek', en: 'Library registration' },
    dcql_query: {
      credentials: [
        sdJwt('meldebescheinigung', VCT.meldebescheinigung, [['vorname'], ['familienname'], ['geburtsdatum'], ['anschrift'], ['wohnsitz_leipzig']]),
        // Entitlement and validity only: nothing about the benefit behind the Leipzig-Pass.
        sdJwt('leipzig_pass', VCT.leipzig_pass, [['ermaessigungsberechtigt'], ['gueltig_bis']]),
      ],
      credential_sets: [
        { options: [['meldebescheinigung']] },
        // The reduced fee is optional: without a Leipzig-Pass the citizen registers at the full fee.
        { options: [['leipzig_pass']], required: false },
      ],
    },
  },
  meldebescheinigung: {
    name: { de: 'Meldebescheinigung prüfen', en: 'Check certificate of registration' },
    dcql_query: {
      credentials: [sdJwt('meldebescheinigung', VCT.meldebescheinigung, [['vorname'], ['familienname'], ['geburtsdatum'], ['anschrift'], ['wohnsitz_leipzig'], ['alter_ueber_18']])],
    },
  },
};
