import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { promisify } from 'node:util';
import canonicalize from 'canonicalize';
import Database from 'better-sqlite3';
import { CompactSign, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyJws } from '../../core/crypto/jws.ts';
import { createDidResolver, resolveAssertionKey } from '../../core/did/resolver.ts';
import { MELDE } from '../helpers/fixtures.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import type { AuditRow } from '../../core/audit/audit-table.ts';

/**
 * Issue 18: the issuer's and the verifier's audit trails are anchored in signed, sequence-numbered
 * checkpoints (core/audit/checkpoint.ts, core/audit/audit-anchor.ts), as the registry's is in its
 * snapshots. Someone with write access to the database but not the key-encryption secret edits
 * the SQLite file directly; `GET /api/audit/check` must say invalid, with a reason, every time.
 */
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const jcs = canonicalize as unknown as (v: unknown) => string;

type Row = AuditRow;
type Service = 'issuer' | 'verifier';
interface Problem {
  problem: string;
  message: string;
}

describe('hardening: issuer and verifier audit trails anchored in signed checkpoints', () => {
  let stack: Stack;
  let closed = false;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    if (!closed) await stack?.close();
  });

  const file = (s: Service) => `${stack.dataDir}/${s}.sqlite`;
  /** Direct access to the service's SQLite file, as an attacker with database access has it. */
  const sql = <T>(s: Service, fn: (db: Database.Database) => T): T => {
    const db = new Database(file(s));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const entries = (s: Service) => sql(s, (db) => db.prepare(`SELECT * FROM ${s}_audit ORDER BY seq`).all() as Row[]);
  const checkpoints = (s: Service) => sql(s, (db) => db.prepare(`SELECT * FROM ${s}_audit_checkpoints ORDER BY seq`).all() as { seq: number; jws: string }[]);
  /** Puts the trail back as it was (the attacker's edits undone). */
  const restore = (s: Service, rows: Row[]) =>
    sql(s, (db) => {
      db.prepare(`DELETE FROM ${s}_audit`).run();
      const insert = db.prepare(`INSERT INTO ${s}_audit (seq, at, actor, action, target, details, prev_hash, hash) VALUES (@seq, @at, @actor, @action, @target, @details, @prev_hash, @hash)`);
      for (const r of rows) insert.run(r);
    });
  /** One admin action, so one audit entry: an offer at the issuer, a presentation request at the verifier. */
  const act = async (s: Service) => {
    const res =
      s === 'issuer'
        ? await stack.admin('issuer', '/api/offices/buergerbuero/offers', { credential_configuration_id: 'meldebescheinigung_sd_jwt', claims: MELDE })
        : await stack.admin('verifier', '/api/verifiers/bibliothek/requests', { template: 'anmeldung_bibliothek' });
    expect(res.status).toBe(201);
  };
  const check = async (s: Service) => {
    const res = await stack.admin(s, '/api/audit/check');
    expect(res.status).toBe(200);
    return (await res.json()) as { valid: boolean; problems: Problem[]; checkpoint: { seq: number; audit_head: { seq: number; hash: string }; count: number } | null };
  };
  const expectInvalid = async (s: Service, problem: string) => {
    const report = await check(s);
    expect(report.valid).toBe(false);
    const found = report.problems.find((p) => p.problem === problem);
    expect(found, JSON.stringify(report.problems)).toBeDefined();
    expect(found!.message.length).toBeGreaterThan(10);
    return report;
  };

  describe.each(['issuer', 'verifier'] as const)('%s', (s) => {
    let intact: Row[];

    it('checkpoints the head on a check: valid, signed, vouching for the last entry and the count', async () => {
      for (let i = 0; i < 4; i++) await act(s);
      const report = await check(s);
      expect(report.valid, JSON.stringify(report.problems)).toBe(true);
      intact = entries(s);
      expect(intact.length).toBeGreaterThanOrEqual(4);
      expect(report.checkpoint).toMatchObject({ audit_head: { seq: intact.at(-1)!.seq, hash: intact.at(-1)!.hash }, count: intact.length });
    });

    it('(a) the last two entries deleted: invalid (truncated)', async () => {
      sql(s, (db) => db.prepare(`DELETE FROM ${s}_audit WHERE seq > ?`).run(intact.length - 2));
      await expectInvalid(s, 'truncated');
      restore(s, intact);
      expect((await check(s)).valid).toBe(true);
    });

    it('(b) an entry rewritten and the whole chain recomputed consistently: invalid (head_mismatch)', async () => {
      let prev = '0'.repeat(64);
      const forged = intact.map((r) => {
        const details = r.seq === 2 ? JSON.stringify({ ...JSON.parse(r.details), note: 'rewritten' }) : r.details;
        const body = { seq: r.seq, at: r.at, actor: r.seq === 2 ? 'someone-else' : r.actor, action: r.action, target: r.target, details: JSON.parse(details), prev_hash: prev };
        const hash = sha256(jcs(body));
        prev = hash;
        return { ...body, details, hash };
      });
      restore(s, forged);
      // The chain on its own is consistent again: only the signed checkpoint tells.
      const report = await expectInvalid(s, 'head_mismatch');
      expect(report.problems.every((p) => ['head_mismatch', 'truncated'].includes(p.problem))).toBe(true);
      restore(s, intact);
      expect((await check(s)).valid).toBe(true);
    });

    it('(c) every entry deleted: invalid (truncated)', async () => {
      sql(s, (db) => db.prepare(`DELETE FROM ${s}_audit`).run());
      await expectInvalid(s, 'truncated');
      restore(s, intact);
      expect((await check(s)).valid).toBe(true);
    });

    it('a checkpoint with a forged signature is detected', async () => {
      const latest = checkpoints(s).at(-1)!;
      const payload = JSON.parse(Buffer.from(latest.jws.split('.')[1]!, 'base64url').toString('utf8'));
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      // The attacker's own key under the service's kid, vouching for the current head.
      const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...payload, seq: latest.seq + 1, prev: sha256(latest.jws), iat: payload.iat + 1 })))
        .setProtectedHeader(decodeProtectedHeader(latest.jws) as { alg: string })
        .sign(privateKey);
      sql(s, (db) => db.prepare(`INSERT INTO ${s}_audit_checkpoints (seq, jws) VALUES (?, ?)`).run(latest.seq + 1, forged));
      await expectInvalid(s, 'checkpoint_signature');
      sql(s, (db) => db.prepare(`DELETE FROM ${s}_audit_checkpoints WHERE seq = ?`).run(latest.seq + 1));
      expect((await check(s)).valid).toBe(true);
    });

    it('the tail deleted together with the checkpoint vouching for it: caught while the service runs (checkpoint_missing)', async () => {
      const cps = checkpoints(s);
      const latest = cps.at(-1)!;
      sql(s, (db) => {
        db.prepare(`DELETE FROM ${s}_audit WHERE seq > ?`).run(intact.length - 2);
        db.prepare(`DELETE FROM ${s}_audit_checkpoints WHERE seq = ?`).run(latest.seq);
      });
      await expectInvalid(s, 'checkpoint_missing');
      restore(s, intact);
      sql(s, (db) => db.prepare(`INSERT INTO ${s}_audit_checkpoints (seq, jws) VALUES (?, ?)`).run(latest.seq, latest.jws));
      expect((await check(s)).valid).toBe(true);
    });

    it('publishes the latest checkpoint and the audit key for outside parties to keep', async () => {
      const base = stack.urls[s];
      const res = await fetch(`${base}/audit/checkpoints/latest`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/jwt');
      const jws = await res.text();
      const header = decodeProtectedHeader(jws);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'audit-checkpoint+jwt' });
      const did = `did:web:${new URL(base).hostname}%3A${new URL(base).port}:audit`;
      // Resolved over HTTP from /audit/did.json, as an outside party would.
      const key = await resolveAssertionKey(createDidResolver(), String(header.kid), did);
      const payload = JSON.parse(new TextDecoder().decode((await verifyJws(jws, key, 'audit-checkpoint+jwt')).payload));
      expect(payload).toMatchObject({ iss: did, service: s, audit_head: { seq: intact.at(-1)!.seq, hash: intact.at(-1)!.hash }, count: intact.length });
      expect(payload.prev).toBe(sha256(checkpoints(s).at(-2)!.jws));
    });

    it('stays valid with admin actions and checks running at once; the checkpoints form one chain', async () => {
      const reports = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? act(s).then(() => undefined) : check(s))));
      for (const r of reports) if (r) expect(r.valid, JSON.stringify(r.problems)).toBe(true);
      const cps = checkpoints(s);
      cps.forEach((c, i) => {
        const p = JSON.parse(Buffer.from(c.jws.split('.')[1]!, 'base64url').toString('utf8'));
        expect(p.seq).toBe(i + 1);
        expect(p.prev).toBe(i === 0 ? '0'.repeat(64) : sha256(cps[i - 1]!.jws));
      });
      expect((await check(s)).checkpoint!.audit_head.seq).toBe(entries(s).at(-1)!.seq);
    });
  });

  it('writes a last checkpoint on shutdown, over entries made since the last check', async () => {
    await act('issuer');
    await act('verifier');
    await stack.close();
    closed = true;
    for (const s of ['issuer', 'verifier'] as const) {
      const last = entries(s).at(-1)!;
      const payload = JSON.parse(Buffer.from(checkpoints(s).at(-1)!.jws.split('.')[1]!, 'base64url').toString('utf8'));
      expect(payload.audit_head).toEqual({ seq: last.seq, hash: last.hash });
    }
  });

  it('the check command says the same offline: intact (exit 0), truncated (exit 1)', async () => {
    const env = { ...process.env, DATA_DIR: stack.dataDir, KEY_ENCRYPTION_SECRET: 'c'.repeat(64), ISSUER_PUBLIC_URL: stack.urls.issuer, VERIFIER_PUBLIC_URL: stack.urls.verifier, LOG_LEVEL: 'warn' };
    const kept = entries('verifier');
    sql('verifier', (db) => db.prepare('DELETE FROM verifier_audit WHERE seq > ?').run(kept.length - 2));
    const [intact, truncated] = await Promise.all([auditCheck('issuer', env), auditCheck('verifier', env)]);
    expect(intact.code, intact.out).toBe(0);
    expect(intact.out).toContain('audit chain intact and anchored');
    expect(truncated.code, truncated.out).toBe(1);
    expect(truncated.out).toMatch(/truncated: /);
  }, 120_000);
});

const run = promisify(execFile);
const auditCheck = (service: Service, env: NodeJS.ProcessEnv) =>
  run('npx', ['tsx', 'scripts/audit-check.ts', service], { env }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
