import type { EntitySchema } from 'typeorm';
import { didWebFor } from '../did/did-web.ts';
import { loadDidWebIdentity } from '../keys/did-identity.ts';
import type { Logger } from '../log/logger.ts';
import type { HostedIdentities } from '../service/did-host.ts';
import type { Clock } from '../util/time.ts';
import { AuditAnchor } from './audit-anchor.ts';
import type { AuditRow } from './audit-table.ts';
import type { CheckpointRow } from './checkpoint-table.ts';

/**
 * The service's audit anchor with its own key: a did:web `<public URL>:audit` whose P-256 key lives
 * in the service's Veramo key store, encrypted at rest under KEY_ENCRYPTION_SECRET like the office
 * and counter keys (created on first start). A dedicated key, so rotating an office's or a
 * counter's signing key never touches the audit trail's checkpoints.
 */
export async function openAuditAnchor(opts: {
  hosted: HostedIdentities;
  publicUrl: string;
  service: string;
  audit: EntitySchema<AuditRow>;
  checkpoints: EntitySchema<CheckpointRow>;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
}): Promise<AuditAnchor> {
  const identity = await loadDidWebIdentity(opts.hosted.keys, didWebFor(opts.publicUrl, 'audit'));
  return new AuditAnchor({ ds: opts.hosted.dataSource, audit: opts.audit, checkpoints: opts.checkpoints, identity, service: opts.service, clock: opts.clock, logger: opts.logger, ...(opts.intervalMs === undefined ? {} : { intervalMs: opts.intervalMs }) });
}
