import { EntitySchema } from 'typeorm';
import { auditTable } from '../../core/audit/audit-table.ts';
import { checkpointTable } from '../../core/audit/checkpoint-table.ts';
import { catalogTables } from '../catalog/catalog-table.ts';

export type OfferState = 'pending' | 'token_issued' | 'deferred' | 'issued' | 'locked';

export interface OfferRow {
  id: string;
  office: string;
  configuration_id: string;
  /** Claims sealed with the key-encryption secret; null once the credential has been collected. */
  claims_sealed: string | null;
  pre_auth_code_hash: string;
  tx_code_hash: string;
  tx_code_failures: number;
  approval: 'auto' | 'manual';
  approved_at: string | null;
  state: OfferState;
  created_at: string;
  expires_at: number;
  /** Deferred issuance: HMAC of the transaction_id handed to the wallet, and the keys it proved. */
  transaction_hash?: string | null;
  holder_jwks?: string | null;
}

export interface NonceRow {
  value: string;
  office: string;
  expires_at: number;
}

export type CredentialStatus = 'valid' | 'revoked' | 'suspended';

export interface CredentialRow {
  id: string;
  offer_id: string;
  office: string;
  configuration_id: string;
  format: string;
  status_list: string;
  status_idx: number;
  status: CredentialStatus;
  issued_at: string;
  expires_at: string;
}

const str = (length: number, nullable = false) => ({ type: 'varchar' as const, length, nullable });
const big = { type: 'bigint' as const, transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } };

export const OfferTable = new EntitySchema<OfferRow>({
  name: 'issuer_offer',
  tableName: 'issuer_offers',
  columns: {
    id: { ...str(36), primary: true },
    office: str(64),
    configuration_id: str(100),
    claims_sealed: { type: 'text', nullable: true },
    pre_auth_code_hash: str(64),
    tx_code_hash: str(64),
    tx_code_failures: { type: 'integer' },
    approval: str(16),
    approved_at: str(40, true),
    state: str(16),
    created_at: str(40),
    expires_at: big,
    transaction_hash: str(64, true),
    holder_jwks: { type: 'text', nullable: true },
  },
});

export const NonceTable = new EntitySchema<NonceRow>({
  name: 'issuer_nonce',
  tableName: 'issuer_nonces',
  columns: { value: { ...str(64), primary: true }, office: str(64), expires_at: big },
});

export const CredentialTable = new EntitySchema<CredentialRow>({
  name: 'issuer_credential',
  tableName: 'issuer_credentials',
  columns: {
    id: { ...str(36), primary: true },
    offer_id: str(36),
    office: str(64),
    configuration_id: str(100),
    format: str(32),
    status_list: str(100),
    status_idx: { type: 'integer' },
    status: str(16),
    issued_at: str(40),
    expires_at: str(40),
  },
});

export const IssuerAuditTable = auditTable('issuer_audit');
/** Signed checkpoints of the audit chain (core/audit/checkpoint.ts, migration 0008). */
export const IssuerAuditCheckpointTable = checkpointTable('issuer_audit_checkpoints');


export interface OfficeKeyRow {
  fragment: string;
  office: string;
  veramo_kid: string;
  created_at: string;
  revoked_at: string | null;
  reason: string | null;
}

export const OfficeKeyTable = new EntitySchema<OfficeKeyRow>({
  name: 'issuer_office_key',
  tableName: 'issuer_office_keys',
  columns: { fragment: { ...str(64), primary: true }, office: str(64), veramo_kid: str(200), created_at: str(40), revoked_at: str(40, true), reason: str(500, true) },
});

/** Status list families: IETF Token Status List (SD-JWT VC) and W3C Bitstring Status List (VC-JWT, vc+jwt). */
export type StatusListFamily = 'tsl' | 'bsl';

/**
 * One status list of an office (migration 0007). `status_list` is `<family>:<office>:<number>`, the
 * name credentials record; `size` is fixed when the list is opened (ISSUER_STATUS_LIST_SIZE then).
 */
export interface StatusListRow {
  status_list: string;
  office: string;
  family: StatusListFamily;
  number: number;
  size: number;
  created_at: string;
}

export const StatusListTable = new EntitySchema<StatusListRow>({
  name: 'issuer_status_list',
  tableName: 'issuer_status_lists',
  columns: { status_list: { ...str(100), primary: true }, office: str(64), family: str(8), number: { type: 'integer' }, size: { type: 'integer' }, created_at: str(40) },
});

/** With the catalogue (issuer/catalog/catalog-table.ts, migration 0009). */
export const issuerTables = [OfferTable, NonceTable, CredentialTable, IssuerAuditTable, IssuerAuditCheckpointTable, OfficeKeyTable, StatusListTable, ...catalogTables];
