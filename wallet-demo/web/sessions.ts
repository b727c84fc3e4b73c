import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Clock } from '../../core/util/time.ts';
import type { PresentationPlan } from '../core/present.ts';

/**
 * Who may see the unlocked wallet: the browser holding a session cookie set by a successful
 * `POST /unlock`. A session id is 256 random bits; it lives in memory only and ends on lock, on
 * idle timeout, or when the process stops. Nothing personal is shown to a request without one,
 * even while another browser has the wallet open.
 *
 * Cookie (RFC 6265bis §4.1.3, §5.4.7): `HttpOnly; SameSite=Strict; Path=/`, no Domain. Over https it
 * is `__Host-wallet_session` with `Secure`. Over plain http (the wallet on http://localhost in demo
 * mode) a `Secure` cookie would not be sent back, so there it is `wallet_session` without `Secure`
 * and without the `__Host-` prefix (which requires `Secure`); loopback traffic does not leave the host.
 */

export interface Session {
  readonly id: string;
  lastSeen: number;
  /** Consent pages shown in this session: a plan id from another session means nothing here. */
  readonly plans: Map<string, { plan: PresentationPlan; until: number }>;
}

const ID = /^[0-9a-f]{64}$/;
const MAX_SESSIONS = 32;

export class Sessions {
  private readonly byId = new Map<string, Session>();
  readonly cookieName: string;
  private readonly secure: boolean;

  constructor(
    publicUrl: string,
    private readonly idleMs: number,
    private readonly clock: Clock,
    /** Called when the last session ends (the wallet forgets its key). */
    private readonly onEmpty: () => void,
  ) {
    this.secure = new URL(publicUrl).protocol === 'https:';
    this.cookieName = this.secure ? '__Host-wallet_session' : 'wallet_session';
  }

  /** A fresh session with a new id (never one the client proposed: no session fixation). */
  create(res: Response): Session {
    if (this.byId.size >= MAX_SESSIONS) this.end(this.byId.keys().next().value!);
    const s: Session = { id: randomBytes(32).toString('hex'), lastSeen: this.clock(), plans: new Map() };
    this.byId.set(s.id, s);
    res.append('Set-Cookie', `${this.cookieName}=${s.id}; Path=/; HttpOnly; SameSite=Strict${this.secure ? '; Secure' : ''}`);
    return s;
  }

  /** The request's live session, touched; undefined when there is none or it has been idle too long. */
  current(req: Request): Session | undefined {
    this.sweep();
    const id = this.cookieValue(req);
    const s = id ? this.byId.get(id) : undefined;
    if (s) s.lastSeen = this.clock();
    return s;
  }

  /** Ends every session (the citizen locks the wallet) and clears this browser's cookie. */
  endAll(res: Response): void {
    for (const id of [...this.byId.keys()]) this.end(id);
    res.append('Set-Cookie', `${this.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.secure ? '; Secure' : ''}`);
  }

  /** Auto-lock: sessions idle longer than the timeout end; with the last one the key is dropped. */
  sweep(): void {
    const now = this.clock();
    for (const s of [...this.byId.values()]) if (now - s.lastSeen >= this.idleMs) this.end(s.id);
  }

  get size(): number {
    return this.byId.size;
  }

  private end(id: string): void {
    this.byId.delete(id);
    if (this.byId.size === 0) this.onEmpty();
  }

  private cookieValue(req: Request): string | undefined {
    for (const part of (req.get('cookie') ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== this.cookieName) continue;
      const v = part.slice(eq + 1).trim();
      if (ID.test(v)) return v;
    }
    return undefined;
  }
}
