import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { ProblemError } from '../../core/http/errors.ts';
import { clientKey } from '../../core/http/rate-limit.ts';
import type { Logger } from '../../core/log/logger.ts';
import { systemClock } from '../../core/util/time.ts';
import { declinePresentation, preparePresentation, sendPresentation } from '../core/present.ts';
import { collectPending, receive, type ReceiveResult } from '../core/receive.ts';
import { finishSelfService, startSelfService, stateOf, type SelfServiceFlow, type SelfServiceOffice } from '../core/self-service.ts';
import { WalletLockedError, WalletStore } from '../core/store.ts';
import { openWallet, WalletError, type WalletContext, type WalletOptions } from '../core/wallet.ts';
import { allowedHosts, hostCheck } from './host-check.ts';
import { half, T, type Lang } from './i18n.ts';
import { consentPage, CSS, deleteConfirmPage, historyPage, homePage, selfServiceLoginPage, selfServiceReturnPage, unlockPage, type Flash, type Prefill } from './pages.ts';
import { Sessions, type Session } from './sessions.ts';
import { UnlockLimiter } from './unlock-limit.ts';
import { SCAN_JS } from './scan-script.ts';

// Scripts only from this origin (the camera scanner and its decoder); the camera stream is never a URL.
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self' blob: mediastream:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** jsQR's browser build, read once: the QR decoder of the camera scanner (wallet-demo/web/scan-script.ts). */
const JSQR = readFileSync(createRequire(import.meta.url).resolve('jsqr/dist/jsQR.js'), 'utf8');
const PLAN_TTL = 10 * 60_000;
export const DEFAULT_IDLE_MS = 10 * 60_000;
/** Longest offer or request a link may pre-fill (both are URIs; the forms post them back). */
const MAX_PREFILL = 8192;
/** Self-service applications in progress at once (all sessions). */
const MAX_FLOWS = 16;

export type WalletWebOptions = Omit<WalletOptions, 'passphrase'> & {
  publicUrl: string;
  logger: Logger;
  /** Auto-lock after this long without a request in a session (WALLET_IDLE_TIMEOUT; default 10 minutes). */
  idleTimeoutMs?: number;
  /** More `Host` names the wallet answers to (WALLET_ALLOWED_HOSTS), besides its public URL's. */
  extraHosts?: readonly string[];
  /** Offices listed under "Online beantragen / Apply online" (main.ts: the demo catalogue's `self_service` offices). */
  selfServiceOffices?: readonly SelfServiceOffice[];
};

/** The Host allow-list check for the whole app (mounted before any route, /health included). */
export const walletHostCheck = (opts: Pick<WalletWebOptions, 'publicUrl' | 'extraHosts'>): RequestHandler => hostCheck(allowedHosts(opts.publicUrl, opts.extraHosts));

/**
 * The web wallet: one citizen's wallet on the same core as the CLI. Unlocking it with the passphrase
 * opens a session for that browser only (sessions.ts); every personal page and action needs it.
 * Same-device links `/?offer=<openid-credential-offer://…>` and `/?request=<openid4vp://…>` only
 * fill in the forms: nothing is fetched until the citizen submits one.
 */
export function walletRoutes(opts: WalletWebOptions): Router {
  const r = Router();
  const clock = opts.clock ?? systemClock;
  // The opened wallet, shared by the live sessions; dropped (key and all) when the last one ends.
  let ctx: WalletContext | undefined;
  /**
   * Self-service authorizations in progress (core/self-service.ts), by their `state`, each bound to
   * the session that started it. Memory only (PKCE verifier, DPoP key); dropped on lock, on expiry,
   * and when used, successfully or not.
   */
  const flows = new Map<string, { flow: SelfServiceFlow; sessionId: string }>();
  const sessions = new Sessions(opts.publicUrl, opts.idleTimeoutMs ?? DEFAULT_IDLE_MS, clock, () => {
    ctx = undefined;
    flows.clear();
  });
  const offices = opts.selfServiceOffices ?? [];
  const redirectUri = `${opts.publicUrl.replace(/\/+$/, '')}/self-service/callback`;
  const limiter = new UnlockLimiter(clock);
  const origin = new URL(opts.publicUrl).origin;
  // Auto-lock also when no request comes in; unref'd, so it never keeps the process alive.
  setInterval(() => sessions.sweep(), Math.min(60_000, opts.idleTimeoutMs ?? DEFAULT_IDLE_MS)).unref();

  const lang = (req: Request): Lang => (/(?:^|;\s*)lang=en(?:;|$)/.test(req.get('cookie') ?? '') ? 'en' : 'de');
  const page = (res: Response, html: string, status = 200) => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    // The camera for the QR scanner, for this origin only (the services' default allows none).
    res.setHeader('Permissions-Policy', 'camera=(self), microphone=(), geolocation=()');
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).type('html').send(html);
  };
  const home = (l: Lang, data: Parameters<typeof homePage>[1], prefill: Prefill, flash?: Flash) => homePage(l, data, prefill, flash, offices);
  const message = (e: unknown, l: Lang) => (e instanceof WalletError || e instanceof WalletLockedError ? half(e.message, l) : l === 'de' ? 'Das hat nicht geklappt.' : 'That did not work.');
  const prefillOf = (src: Record<string, unknown> | undefined): Prefill => {
    const out: Prefill = {};
    for (const k of ['offer', 'request'] as const) {
      const v = src?.[k];
      if (typeof v === 'string' && v.trim() && v.length <= MAX_PREFILL) out[k] = v.trim();
    }
    return out;
  };

  // DNS rebinding: another host name is refused before any wallet route (host-check.ts).
  r.use(walletHostCheck(opts));

  // Forms post only from this origin (a page elsewhere must not make the wallet share).
  r.use((req, _res, next) => {
    if (req.method !== 'POST') return next();
    // Fetch Metadata first (browsers send it); otherwise the Origin header. Under our
    // Referrer-Policy a browser may send `Origin: null`, which alone proves nothing.
    const site = req.get('sec-fetch-site');
    const o = req.get('origin');
    const ok = site !== undefined ? site === 'same-origin' || site === 'none' : o === undefined || o === origin;
    if (!ok) return next(new ProblemError({ status: 403, code: 'cross-site', title: 'Forbidden', detail: 'Cross-site form submission refused.' }));
    next();
  });

  r.get('/static/jsqr.js', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/javascript').send(JSQR);
  });
  r.get('/static/scan.js', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/javascript').send(SCAN_JS);
  });
  r.get('/static/wallet.css', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('text/css').send(CSS);
  });
  r.get('/lang/:l', (req, res) => {
    res.setHeader('Set-Cookie', `lang=${req.params.l === 'en' ? 'en' : 'de'}; Path=/; SameSite=Lax; Max-Age=31536000`);
    res.redirect(303, '/');
  });

  const isNew = () => !WalletStore.exists(opts.dir);
  /** Weak: under 12 characters, or built from fewer than 6 different characters ("aaaaaaaaaaaa", "abababab…"). */
  const weakPassphrase = (p: string) => [...p].length < 12 || new Set(p).size < 6;
  /** The request is fetched, checked against the registry and turned into a consent page (or a refusal). */
  const present = async (res: Response, l: Lang, c: WalletContext, s: Session, request: string): Promise<void> => {
    try {
      const plan = await preparePresentation(c, request);
      // The registry's promise (docs/threat-model.md, web wallet): a relying party the registry does
      // not know, or one asking for more than it is registered for, gets nothing but OID4VP 1.0 §8.5
      // `access_denied`; there is no button that would share anyway. The history records the refusal.
      if (!plan.registered) {
        await declinePresentation(c, plan);
        return page(res, home(l, c.store.snapshot, {}, { kind: 'warn', text: [T[l].refusedUnregistered, ...plan.warnings.map((w) => half(w, l))].join(' ') }));
      }
      const id = randomUUID();
      const now = clock();
      for (const [k, v] of s.plans) if (v.until < now) s.plans.delete(k);
      s.plans.set(id, { plan, until: now + PLAN_TTL });
      page(res, consentPage(l, id, plan));
    } catch (e) {
      if (!(e instanceof WalletError)) opts.logger.warn({ err: { name: (e as Error).name } }, 'presentation request failed');
      page(res, home(l, c.store.snapshot, {}, { kind: 'warn', text: message(e, l) }), 400);
    }
  };

  /** The unlocked wallet for this request's session, or the unlock page (401) and undefined. */
  const unlocked = (req: Request, res: Response): { c: WalletContext; s: Session } | undefined => {
    const s = sessions.current(req);
    if (s && ctx) return { c: ctx, s };
    page(res, unlockPage(lang(req), undefined, {}, isNew()), 401);
    return undefined;
  };

  r.get('/', (req, res) => {
    const l = lang(req);
    const prefill = prefillOf(req.query as Record<string, unknown>);
    const s = sessions.current(req);
    if (!s || !ctx) return page(res, unlockPage(l, undefined, prefill, isNew()));
    // A link pre-fills; the request is fetched only when the citizen submits the form (POST /present).
    page(res, home(l, ctx.store.snapshot, prefill, prefill.request ? { kind: 'notice', text: T[l].requestPrefilled } : undefined));
  });

  r.post('/unlock', async (req, res) => {
    const l = lang(req);
    const body = req.body as Record<string, unknown> | undefined;
    const prefill = prefillOf(body);
    const client = clientKey(req);
    const refuse = (retryAfter: number) => {
      res.setHeader('Retry-After', String(retryAfter));
      page(res, unlockPage(l, { kind: 'warn', text: T[l].tooMany(retryAfter) }, prefill), 429);
    };
    const blocked = limiter.check(client);
    if (!blocked.ok) return refuse(blocked.retryAfter);
    const passphrase = typeof body?.passphrase === 'string' ? body.passphrase : '';
    // First use creates the wallet: the passphrase twice, and not a weak one.
    if (isNew()) {
      const problem = body?.passphrase_repeat !== passphrase ? T[l].passphraseMismatch : weakPassphrase(passphrase) ? T[l].passphraseWeak : undefined;
      if (problem) return page(res, unlockPage(l, { kind: 'warn', text: problem }, prefill, true), 400);
    }
    const out = await limiter.run<WalletContext | WalletLockedError>(client, async () => {
      try {
        const opened = await openWallet({ ...opts, passphrase });
        return { failed: false, value: opened };
      } catch (e) {
        if (e instanceof WalletLockedError) return { failed: true, value: e };
        throw e;
      }
    });
    if (!out.ok) return refuse(out.retryAfter);
    if (out.value instanceof WalletLockedError) return page(res, unlockPage(l, { kind: 'warn', text: half(out.value.message, l) }, prefill, isNew()), 401);
    // The passphrase is right. The wallet already open for another live session stays the one in use.
    sessions.sweep();
    ctx ??= out.value;
    const session = sessions.create(res);
    // The citizen came with a counter's request and has now acted in the wallet's own page (this
    // POST passed the Host and cross-site checks): continue straight to the consent screen.
    if (prefill.request) return present(res, l, ctx, session, prefill.request);
    const q = new URLSearchParams(prefill).toString();
    res.redirect(303, q ? `/?${q}` : '/');
  });

  r.post('/lock', (req, res) => {
    if (!unlocked(req, res)) return;
    sessions.endAll(res);
    page(res, unlockPage(lang(req), { kind: 'notice', text: T[lang(req)].locked }, {}, isNew()));
  });

  r.post('/receive', async (req, res) => {
    const l = lang(req);
    const u = unlocked(req, res);
    if (!u) return;
    const { c } = u;
    const txCode = String(req.body?.tx_code ?? '').trim();
    try {
      let out: ReceiveResult;
      try {
        out = await receive(c, String(req.body?.offer ?? ''), txCode || undefined);
      } catch (e) {
        // An offer with the authorization_code grant (OID4VCI 1.0 §4.1.1): the office wants a login, so apply online.
        if (!(e instanceof WalletError && e.code === 'unsupported_offer')) throw e;
        return await beginSelfService(res, l, c, u.s, { offer: String(req.body?.offer ?? '') });
      }
      const text = out.deferred ? T[l].pending : `${T[l].received}: ${out.credentials[0]?.display?.name?.[l] ?? out.credentials[0]?.type ?? ''}`;
      page(res, home(l, c.store.snapshot, {}, { kind: out.warnings.length ? 'warn' : 'notice', text: [text, ...out.warnings.map((w) => half(w, l))].join(' ') }));
    } catch (e) {
      page(res, home(l, c.store.snapshot, { offer: String(req.body?.offer ?? '') }, { kind: 'warn', text: message(e, l) }), 400);
    }
  });

  /** Pushes the authorization request (core/self-service.ts) and shows where to log in. */
  const beginSelfService = async (res: Response, l: Lang, c: WalletContext, s: Session, target: { office?: string; offer?: string }): Promise<void> => {
    try {
      const now = clock();
      for (const [k, v] of flows) if (v.flow.expiresAt < now) flows.delete(k);
      // A bounded number in progress: the oldest gives way (each holds a DPoP key and a PKCE verifier).
      while (flows.size >= MAX_FLOWS) flows.delete(flows.keys().next().value!);
      const flow = await startSelfService(c, { ...target, redirectUri });
      flows.set(flow.state, { flow, sessionId: s.id });
      const listed = offices.find((o) => o.url === flow.credentialIssuer);
      page(res, selfServiceLoginPage(l, listed?.name[l] ?? flow.officeName?.[l] ?? flow.credentialIssuer, flow.authorizationUrl));
    } catch (e) {
      if (!(e instanceof WalletError)) opts.logger.warn({ err: { name: (e as Error).name } }, 'self-service could not start');
      page(res, home(l, c.store.snapshot, target.offer ? { offer: target.offer } : {}, { kind: 'warn', text: message(e, l) }), 400);
    }
  };

  /**
   * The office's answer (code or error), in the session that started the flow: checked and redeemed by
   * the core (iss, state, PKCE, DPoP); the flow is used once, whatever the outcome.
   */
  const completeSelfService = async (res: Response, l: Lang, c: WalletContext, s: Session, responseUrl: string): Promise<void> => {
    const state = stateOf(responseUrl);
    const entry = state ? flows.get(state) : undefined;
    if (!entry || entry.flow.expiresAt < clock()) {
      if (state) flows.delete(state);
      return page(res, home(l, c.store.snapshot, {}, { kind: 'warn', text: T[l].flowUnknown }), 400);
    }
    if (entry.sessionId !== s.id) return page(res, home(l, c.store.snapshot, {}, { kind: 'warn', text: T[l].flowOtherBrowser }), 400);
    flows.delete(state!);
    try {
      const out = await finishSelfService(c, entry.flow, responseUrl);
      const text = `${T[l].received}: ${out.credentials[0]?.display?.name?.[l] ?? out.credentials[0]?.type ?? ''}`;
      page(res, home(l, c.store.snapshot, {}, { kind: out.warnings.length ? 'warn' : 'notice', text: [text, ...out.warnings.map((w) => half(w, l))].join(' ') }));
    } catch (e) {
      if (!(e instanceof WalletError)) opts.logger.warn({ err: { name: (e as Error).name } }, 'self-service failed');
      page(res, home(l, c.store.snapshot, {}, { kind: 'warn', text: message(e, l) }), 400);
    }
  };

  // "Online beantragen / Apply online" for one of the listed offices.
  r.post('/self-service/start', async (req, res) => {
    const l = lang(req);
    const u = unlocked(req, res);
    if (!u) return;
    const office = offices.find((o) => o.url === String(req.body?.office ?? ''));
    if (!office) return page(res, home(l, u.c.store.snapshot, {}, { kind: 'warn', text: l === 'de' ? 'Dieses Amt bietet hier keinen Online-Abruf an.' : 'This office does not offer online self-service here.' }), 400);
    await beginSelfService(res, l, u.c, u.s, { office: office.url });
  });

  // The redirect URI (RFC 6749 §3.1.2). The citizen's browser comes back from the office with code or error, state and iss.
  r.get('/self-service/callback', async (req, res) => {
    const l = lang(req);
    const responseUrl = new URL(req.originalUrl, opts.publicUrl).href;
    const s = sessions.current(req);
    // After a redirect from another site the SameSite=Strict session cookie is missing: one click in our own page continues.
    if (!s || !ctx) {
      const known = stateOf(responseUrl);
      return page(res, known && flows.has(known) ? selfServiceReturnPage(l, responseUrl) : unlockPage(l, { kind: 'warn', text: T[l].flowUnknown }, {}, isNew()), known && flows.has(known) ? 200 : 400);
    }
    await completeSelfService(res, l, ctx, s, responseUrl);
  });
  r.post('/self-service/callback', async (req, res) => {
    const l = lang(req);
    const u = unlocked(req, res);
    if (!u) return;
    const responseUrl = String(req.body?.response ?? '');
    // Only an answer at our own redirect URI is taken (the core checks it again).
    if (!responseUrl.startsWith(`${redirectUri}?`) || responseUrl.length > MAX_PREFILL) return page(res, home(l, u.c.store.snapshot, {}, { kind: 'warn', text: T[l].flowUnknown }), 400);
    await completeSelfService(res, l, u.c, u.s, responseUrl);
  });

  r.post('/collect', async (req, res) => {
    const l = lang(req);
    const u = unlocked(req, res);
    if (!u) return;
    const out = await collectPending(u.c);
    page(res, home(l, u.c.store.snapshot, {}, { kind: 'notice', text: `${out.received.length} ${T[l].received}; ${out.waiting} ${T[l].pending}` }));
  });

  // The citizen submitted the request form: only now is the Request Object fetched (present.ts checks the URLs).
  r.post('/present', async (req, res) => {
    const l = lang(req);
    const u = unlocked(req, res);
    if (!u) return;
    const { c, s } = u;
    await present(res, l, c, s, String(req.body?.request ?? ''));
  });

  r.post('/present/:id/:action', async (req, res) => {
    const l = lang(req);
    const u = unlocked(req, res);
    if (!u) return;
    const { c, s } = u;
    const entry = s.plans.get(String(req.params.id));
    s.plans.delete(String(req.params.id));
    if (!entry || entry.until < clock()) return page(res, home(l, c.store.snapshot, {}, { kind: 'warn', text: l === 'de' ? 'Die Anfrage ist abgelaufen.' : 'The request has expired.' }), 400);
    try {
      if (req.params.action === 'decline') {
        await declinePresentation(c, entry.plan);
        return page(res, home(l, c.store.snapshot, {}, { kind: 'notice', text: T[l].declined }));
      }
      // Only plans for registered relying parties are ever offered; refuse anything else here too.
      if (!entry.plan.registered) throw new WalletError('unregistered_verifier', 'Nicht geteilt: nicht eingetragene Stelle. / Not shared: unregistered organisation.');
      const choice: Record<string, string> = {};
      const body = (req.body ?? {}) as Record<string, string>;
      for (const q of entry.plan.queries) {
        if (body[`choice_${q.queryId}`]) choice[q.queryId] = body[`choice_${q.queryId}`]!;
      }
      // Optional queries are shared only when their box stayed ticked.
      const plan = { ...entry.plan, queries: entry.plan.queries.filter((q) => q.required || body[`include_${q.queryId}`] === '1') };
      await sendPresentation(c, plan, choice, { includeOptional: true });
      page(res, home(l, c.store.snapshot, {}, { kind: 'notice', text: T[l].shared }));
    } catch (e) {
      opts.logger.warn({ err: { name: (e as Error).name } }, 'presentation failed');
      page(res, home(l, c.store.snapshot, {}, { kind: 'warn', text: message(e, l) }), 400);
    }
  });

  r.get('/history', (req, res) => {
    const u = unlocked(req, res);
    if (!u) return;
    page(res, historyPage(lang(req), u.c.store.snapshot));
  });
  r.get('/history.json', (req, res) => {
    const u = unlocked(req, res);
    if (!u) return;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', 'attachment; filename="wallet-verlauf.json"');
    res.json({ exported_at: new Date(clock()).toISOString(), history: u.c.store.snapshot.history });
  });

  r.post('/credentials/:group/delete', (req, res) => {
    const l = lang(req);
    const u = unlocked(req, res);
    if (!u) return;
    const { c } = u;
    const group = String(req.params.group);
    // Nothing to delete: say so, and leave the store file as it is.
    if (!c.store.snapshot.credentials.some((x) => x.group === group)) return page(res, home(l, c.store.snapshot, {}, { kind: 'warn', text: l === 'de' ? 'Diesen Nachweis gibt es nicht (mehr).' : 'This credential does not exist (any more).' }), 404);
    // Deleting is final: without the confirmation from the page that asks, nothing is deleted.
    if ((req.body as Record<string, unknown> | undefined)?.confirm !== '1') return page(res, deleteConfirmPage(l, group, c.store.snapshot.credentials.find((x) => x.group === group)!));
    c.store.update((d) => {
      const keys = new Set(d.credentials.filter((x) => x.group === group).map((x) => x.keyId));
      d.credentials = d.credentials.filter((x) => x.group !== group);
      d.keys = d.keys.filter((k) => !keys.has(k.id));
    });
    page(res, home(l, c.store.snapshot, {}, { kind: 'notice', text: T[l].deleted }));
  });
  return r;
}
