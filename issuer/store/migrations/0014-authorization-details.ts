import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * 0014: the `authorization_details` (RFC 9396, OID4VCI 1.0 §5.1.1) a pushed authorization request
 * asked with, as checked and normalised JSON (issuer/oauth/par.ts); NULL when it asked by `scope`.
 * The token endpoint answers with `authorization_details` and `credential_identifiers` (§6.2) exactly
 * when it is set.
 */
export class Issuer0014AuthorizationDetails1764100001014 implements MigrationInterface {
  name = 'Issuer0014AuthorizationDetails1764100001014';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('issuer_authorizations', new TableColumn({ name: 'authorization_details', type: 'text', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('issuer_authorizations', 'authorization_details');
  }
}
