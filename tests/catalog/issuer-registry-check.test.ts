import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../core/http/errors.ts';
import type { SnapshotClient } from '../../core/trust/snapshot.ts';
import { requireIssueGrants } from '../../issuer/catalog/registry-check.ts';

/** The registry check of an office PUT when the registry cannot answer: 503, German and English, nothing decided. */
describe('issuer catalogue registry check', () => {
  it('answers 503 registry-unavailable when no snapshot can be had', async () => {
    const down = { index: async () => Promise.reject(new Error('down')), refresh: async () => Promise.reject(new Error('down')) } as unknown as SnapshotClient;
    const e = await requireIssueGrants(down, 'stadtarchiv', 'did:web:localhost%3A1:offices:stadtarchiv', ['urn:id-ideal:vct:archivausweis'], Date.now()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProblemError);
    const p = (e as ProblemError).toJSON();
    expect(p).toMatchObject({ status: 503, type: 'urn:id-ideal:problem:registry-unavailable' });
    expect((p.detail_i18n as { de: string }).de).toContain('nicht erreichbar');
  });
});
