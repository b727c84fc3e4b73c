import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { Issuer0002Deferred1764100001002 } from './0002-deferred.ts';
import { Issuer0003Audit1764100001003 } from './0003-audit.ts';
import { Issuer0004OfficeKeys1764100001004 } from './0004-office-keys.ts';
import { Issuer0005StatusSlots1764100001005 } from './0005-status-slots.ts';
import { Issuer0006ApiKeys1764100001006 } from './0006-api-keys.ts';
import { Issuer0007StatusLists1764100001007 } from './0007-status-lists.ts';
import { Issuer0008AuditCheckpoints1764100001008 } from './0008-audit-checkpoints.ts';
import { Issuer0009Catalog1764100001009 } from './0009-catalog.ts';
import { Issuer0010Certificates1764100001010 } from './0010-certificates.ts';
import { Issuer0013StatusListVersions1764100001013 } from './0013-status-list-versions.ts';
import { Issuer0014AuthorizationDetails1764100001014 } from './0014-authorization-details.ts';
import { Issuer0016UnreadUniques1764100001016 } from './0016-unread-uniques.ts';
import { Issuer0015DropOfferOfficeIndex1764100001015 } from './0015-drop-offer-office-index.ts';
import { Issuer0012Authorizations1764100001012 } from './0012-authorizations.ts';
import { Issuer0011DpopJtis1764100001011 } from './0011-dpop-jtis.ts';

const v = (name: string, length: number, extra: Record<string, unknown> = {}) => ({ name, type: 'varchar', length: String(length), ...extra });

/** 0001: offers, nonces, issued credentials. Never edit once released; add a new numbered migration. */
export class Issuer0001Init1764100001001 implements MigrationInterface {
  name = 'Issuer0001Init1764100001001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'issuer_offers',
        columns: [
          v('id', 36, { isPrimary: true }),
          v('office', 64),
          v('configuration_id', 100),
          { name: 'claims_sealed', type: 'text', isNullable: true },
          v('pre_auth_code_hash', 64, { isUnique: true }),
          v('tx_code_hash', 64),
          { name: 'tx_code_failures', type: 'integer', default: 0 },
          v('approval', 16),
          v('approved_at', 40, { isNullable: true }),
          v('state', 16),
          v('token_jti', 64, { isNullable: true, isUnique: true }),
          v('created_at', 40),
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('issuer_offers', new TableIndex({ name: 'idx_issuer_offers_office', columnNames: ['office', 'created_at'] }));
    await q.createTable(
      new Table({
        name: 'issuer_nonces',
        columns: [v('value', 64, { isPrimary: true }), v('office', 64), { name: 'expires_at', type: 'bigint' }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'issuer_credentials',
        columns: [
          v('id', 36, { isPrimary: true }),
          v('offer_id', 36),
          v('office', 64),
          v('configuration_id', 100),
          v('format', 32),
          v('status_list', 100),
          { name: 'status_idx', type: 'integer' },
          v('status', 16),
          v('issued_at', 40),
          v('expires_at', 40),
        ],
        foreignKeys: [{ columnNames: ['offer_id'], referencedTableName: 'issuer_offers', referencedColumnNames: ['id'] }],
        uniques: [{ name: 'uq_issuer_credentials_status_slot', columnNames: ['status_list', 'status_idx'] }],
      }),
    );
    await q.createIndex('issuer_credentials', new TableIndex({ name: 'idx_issuer_credentials_offer', columnNames: ['offer_id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['issuer_credentials', 'issuer_nonces', 'issuer_offers']) await q.dropTable(t);
  }
}

export const issuerMigrations = [Issuer0001Init1764100001001, Issuer0002Deferred1764100001002, Issuer0003Audit1764100001003, Issuer0004OfficeKeys1764100001004, Issuer0005StatusSlots1764100001005, Issuer0006ApiKeys1764100001006, Issuer0007StatusLists1764100001007, Issuer0008AuditCheckpoints1764100001008, Issuer0009Catalog1764100001009, Issuer0010Certificates1764100001010, Issuer0011DpopJtis1764100001011, Issuer0012Authorizations1764100001012, Issuer0013StatusListVersions1764100001013, Issuer0014AuthorizationDetails1764100001014, Issuer0015DropOfferOfficeIndex1764100001015, Issuer0016UnreadUniques1764100001016];
