import { EntitySchema } from 'typeorm';
import { checkpointTable } from '../../core/audit/checkpoint-table.ts';
import { catalogTables } from '../catalog/tables.ts';

export type RequestStatus = 'pending' | 'processing' | 'verified' | 'rejected';

export interface RequestRow {
  id: string;
  rp: string;
  nonce: string;
  state: string;
  dcql_query: string;
  /** `dc_api.jwt`: answered over the W3C Digital Credentials API (verifier/use-cases/dc-api.ts). */
  response_mode: 'direct_post' | 'direct_post.jwt' | 'dc_api.jwt';
  /** Private JWK for response decryption (direct_post.jwt), sealed; dropped once answered. */
  enc_key_sealed: string | null;
  status: RequestStatus;
  /** The verdict (verified flag, errors, disclosed claims the query asked for), sealed. */
  result_sealed: string | null;
  created_at: string;
  expires_at: number;
  result_expires_at: number | null;
  /** The last answer that did not verify, as fixed codes (verifier/last-attempt.ts); never final. */
  last_attempt?: string | null;
}

const str = (length: number, nullable = false) => ({ type: 'varchar' as const, length, nullable });
const big = (nullable = false) => ({ type: 'bigint' as const, nullable, transformer: { to: (v: number | null) => v, from: (v: string | number | null) => (v === null ? null : Number(v)) } });

export const RequestTable = new EntitySchema<RequestRow>({
  name: 'verifier_request',
  tableName: 'verifier_requests',
  columns: {
    id: { ...str(36), primary: true },
    rp: str(64),
    nonce: str(64),
    state: str(64),
    dcql_query: { type: 'text' },
    response_mode: str(32),
    enc_key_sealed: { type: 'text', nullable: true },
    status: str(16),
    result_sealed: { type: 'text', nullable: true },
    created_at: str(40),
    expires_at: big(),
    result_expires_at: big(true),
    last_attempt: { ...str(400, true) },
  },
});

/** Signed checkpoints of the audit chain (core/audit/checkpoint.ts, migration 0003). */
export const VerifierAuditCheckpointTable = checkpointTable('verifier_audit_checkpoints');

/** With the catalogue's tables (verifier/catalog/tables.ts, migration 0005). */
export const verifierTables = [RequestTable, VerifierAuditCheckpointTable, ...catalogTables];
