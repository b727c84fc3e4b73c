import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import canonicalize from 'canonicalize';
import { decodeProtectedHeader } from 'jose';
import Database from 'better-sqlite3';
import { createDidResolver } from '../../core/did/resolver.ts';
import { VCT } from '../../core/demo/leipzig.ts';
import { evaluateCredentialIssuer } from '../../core/trust/evaluate.ts';
import { SnapshotClient, verifySnapshot } from '../../core/trust/snapshot.ts';
import { startTestRegistry, type RunningRegistry } from '../helpers/registry.ts';

const run = promisify(execFile);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const jcs = canonicalize as unknown as (v: unknown) => string;

async function sql(file: string, statement: string): Promise<void> {
  const db = new Database(file);
  try {
    db.prepare(statement).run();
  } finally {
    db.close();
  }
}

const auditCheck = (dataDir: string) =>
  run('npx', ['tsx', 'trust-registry/cli/audit-check.ts'], { env: { ...process.env, DATA_DIR: dataDir } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

describe('trust registry: signed snapshots and the audit chain', () => {
  const open: RunningRegistry[] = [];
  afterAll(async () => {
    for (const r of open) await r.close().catch(() => undefined);
  });

  it('serves a signed snapshot that verifies against the registry DID and that offline evaluation agrees with TRQP', async () => {
    const reg = await startTestRegistry();
    open.push(reg);
    const res = await fetch(`${reg.url}/snapshots/latest`);
    expect(res.headers.get('content-type')).toContain('application/jwt');
    const jws = await res.text();
    expect(decodeProtectedHeader(jws)).toMatchObject({ alg: 'ES256', typ: 'trust-registry-snapshot+jwt' });
    const payload = await verifySnapshot(jws, reg.did, createDidResolver());
    expect(payload.seq).toBeGreaterThan(0);
    expect(payload.next_update).toBeGreaterThan(payload.iat);
    expect(payload.grants.every((g) => g.statement.split('.').length === 3)).toBe(true);

    // A snapshot with one changed byte is refused.
    const [h, p, s] = jws.split('.');
    const changed = Buffer.from(JSON.stringify({ ...payload, seq: payload.seq + 100 })).toString('base64url');
    await expect(verifySnapshot(`${h}.${changed}.${s}`, reg.did, createDidResolver())).rejects.toThrow(/does not verify/);
    expect(p).not.toBe(changed);

    // Offline answer = online answer.
    const client = new SnapshotClient({ registryUrl: reg.url, registryDid: reg.did, resolver: createDidResolver() });
    const index = await client.index();
    const verdict = evaluateCredentialIssuer(index, { issuer: 'did:web:localhost%3A3001:offices:sozialamt', vct: VCT.leipzig_pass, issuedAt: Date.now(), now: Date.now() });
    expect(verdict.trusted).toBe(true);
    expect(verdict.issuer_name?.de).toBe('Sozialamt Leipzig');
    const forged = evaluateCredentialIssuer(index, { issuer: 'did:web:localhost%3A3001:offices:buergerbuero', vct: VCT.leipzig_pass, issuedAt: Date.now(), now: Date.now() });
    expect(forged).toMatchObject({ trusted: false, code: 'untrusted_issuer' });
  });

  it('chains snapshots by seq and prev hash, and never lets seq go backwards across a restart', async () => {
    const reg = await startTestRegistry();
    const first = await (await fetch(`${reg.url}/snapshots/latest`)).text();
    const p1 = await verifySnapshot(first, reg.did, createDidResolver());
    expect((await reg.admin('/api/entities', { body: { id: 'did:web:example.org:neu', kind: 'issuer', name: { de: 'Neu', en: 'New' } } })).status).toBe(201);
    const second = await (await fetch(`${reg.url}/snapshots/latest`)).text();
    const p2 = await verifySnapshot(second, reg.did, createDidResolver());
    expect(p2.seq).toBe(p1.seq + 1);
    expect(p2.prev).toBe(sha256(first));
    const audit = (await (await reg.admin('/api/audit')).json()).entries;
    expect(p2.audit_head).toEqual({ seq: audit.at(-1).seq, hash: audit.at(-1).hash });
    await reg.close();

    // Restart on the same data: the seed adds nothing, seq continues from where it was.
    const again = await startTestRegistry({ dataDir: reg.dataDir, port: Number(new URL(reg.url).port) });
    open.push(again);
    const third = await verifySnapshot(await (await fetch(`${again.url}/snapshots/latest`)).text(), again.did, createDidResolver());
    expect(third.seq).toBeGreaterThanOrEqual(p2.seq);
    expect((await again.admin('/api/entities', { body: { id: 'did:web:example.org:neu2', kind: 'issuer', name: { de: 'Neu 2', en: 'New 2' } } })).status).toBe(201);
    const fourth = await verifySnapshot(await (await fetch(`${again.url}/snapshots/latest`)).text(), again.did, createDidResolver());
    expect(fourth.seq).toBe(third.seq + 1);
    // The restarted registry kept the entity created before the restart.
    const entities = (await (await again.admin('/api/entities')).json()).entities.map((e: { id: string }) => e.id);
    expect(entities).toContain('did:web:example.org:neu');
  });

  it('keeps a hash-chained audit trail whose hashes are SHA-256 over RFC 8785 canonical JSON', async () => {
    const reg = await startTestRegistry();
    open.push(reg);
    const { entries } = await (await reg.admin('/api/audit')).json();
    expect(entries.length).toBeGreaterThan(10);
    let prev = '0'.repeat(64);
    entries.forEach((e: Record<string, unknown>, i: number) => {
      expect(e.seq).toBe(i + 1);
      expect(e.prev_hash).toBe(prev);
      const { hash, ...rest } = e;
      expect(hash).toBe(sha256(jcs(rest)));
      prev = hash as string;
    });
    expect(entries[0]).toMatchObject({ actor: 'system:seed', action: 'credential_type.create' });
    expect((await (await reg.admin('/api/audit/check')).json()).valid).toBe(true);
  });

  it('detects an edited and a deleted audit row, online and with the check command', async () => {
    const reg = await startTestRegistry();
    await reg.admin('/api/entities', { body: { id: 'did:web:example.org:pruefung', kind: 'issuer', name: { de: 'Prüfung', en: 'Audit' } } });
    await reg.close();
    const intact = await auditCheck(reg.dataDir);
    expect(intact.code, intact.out).toBe(0);
    expect(intact.out).toContain('audit chain intact');

    const db = `${reg.dataDir}/registry.sqlite`;
    await sql(db, `UPDATE registry_audit SET actor = 'someone-else' WHERE seq = 3`);
    const edited = await auditCheck(reg.dataDir);
    expect(edited.code).toBe(1);
    expect(edited.out).toMatch(/entry 3: hash_mismatch/);

    const again = await startTestRegistry({ dataDir: reg.dataDir, port: Number(new URL(reg.url).port) });
    const online = await (await again.admin('/api/audit/check')).json();
    expect(online.valid).toBe(false);
    expect(online.problems[0]).toMatchObject({ seq: 3, problem: 'hash_mismatch' });
    await again.close();

    // A deleted last entry is caught against the head the signed snapshot vouched for.
    const copy = await startTestRegistry();
    await copy.close();
    await sql(`${copy.dataDir}/registry.sqlite`, `DELETE FROM registry_audit WHERE seq = (SELECT MAX(seq) FROM registry_audit)`);
    const truncated = await auditCheck(copy.dataDir);
    expect(truncated.code).toBe(1);
    expect(truncated.out).toMatch(/head_mismatch/);
  });
});
