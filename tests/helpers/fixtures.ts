/** Claims of the demo citizen used across tests (fictitious person). */
export const MELDE = {
  vorname: 'Erika',
  familienname: 'Mustermann',
  geburtsdatum: '1990-04-01',
  anschrift: { strasse: 'Markt', hausnummer: '1', postleitzahl: '04109', ort: 'Leipzig' },
  wohnsitz_leipzig: true,
  alter_ueber_18: true,
};
