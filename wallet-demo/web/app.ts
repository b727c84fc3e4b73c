import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { ProblemError } from '../../core/http/errors.ts';
import type { Logger } from '../../core/log/logger.ts';
import { declinePresentation, preparePresentation, sendPresentation, type PresentationPlan } from '../core/present.ts';
import { collectPending, receive } from '../core/receive.ts';
import { WalletLockedError } from '../core/store.ts';
import { openWallet, WalletError, type WalletContext, type WalletOptions } from '../core/wallet.ts';
import { half, T, type Lang } from './i18n.ts';
import { consentPage, CSS, historyPage, homePage, unlockPage } from './pages.ts';

const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PLAN_TTL = 10 * 60_000;

/**
 * The web wallet: one citizen's wallet, unlocked with its passphrase, on the same core as the CLI.
 * Same-device links open it: `/?offer=<openid-credential-offer://…>` and `/?request=<openid4vp://…>`.
 */
export function walletRoutes(opts: Omit<WalletOptions, 'passphrase'> & { publicUrl: string; passphrase?: string | undefined; logger: Logger }): Router {
  const r = Router();
  let ctx: WalletContext | undefined = opts.passphrase ? openWallet({ ...opts, passphrase: opts.passphrase }) : undefined;
  const plans = new Map<string, { plan: PresentationPlan; until: number }>();
  const origin = new URL(opts.publicUrl).origin;

  const lang = (req: Request): Lang => (/(?:^|;\s*)lang=en(?:;|$)/.test(req.get('cookie') ?? '') ? 'en' : 'de');
  const page = (res: Response, html: string, status = 200) => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).type('html').send(html);
  };
  const message = (e: unknown, l: Lang) => (e instanceof WalletError || e instanceof WalletLockedError ? half(e.message, l) : l === 'de' ? 'Das hat nicht geklappt.' : 'That did not work.');

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

  r.get('/static/wallet.css', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('text/css').send(CSS);
  });
  r.get('/lang/:l', (req, res) => {
    res.setHeader('Set-Cookie', `lang=${req.params.l === 'en' ? 'en' : 'de'}; Path=/; SameSite=Lax; Max-Age=31536000`);
    res.redirect(303, '/');
  });

  r.get('/', async (req, res) => {
    const l = lang(req);
    if (!ctx) return page(res, unlockPage(l));
    const offer = typeof req.query.offer === 'string' ? req.query.offer : undefined;
    const request = typeof req.query.request === 'string' ? req.query.request : undefined;
    if (request) return showConsent(res, l, request);
    page(res, homePage(l, ctx.store.snapshot, { ...(offer ? { offer } : {}) }));
  });

  r.post('/unlock', (req, res) => {
    const l = lang(req);
    try {
      ctx = openWallet({ ...opts, passphrase: String(req.body?.passphrase ?? '') });
      res.redirect(303, '/');
    } catch (e) {
      page(res, unlockPage(l, e instanceof WalletLockedError ? e.message : 'Fehler / error'), 401);
    }
  });

  const requireUnlocked = (req: Request, res: Response): WalletContext | undefined => {
    if (!ctx) page(res, unlockPage(lang(req)), 401);
    return ctx;
  };

  r.post('/receive', async (req, res) => {
    const l = lang(req);
    const c = requireUnlocked(req, res);
    if (!c) return;
    const txCode = String(req.body?.tx_code ?? '').trim();
    try {
      const out = await receive(c, String(req.body?.offer ?? ''), txCode || undefined);
      const text = out.deferred ? T[l].pending : `${T[l].received}: ${out.credentials[0]?.display?.name?.[l] ?? out.credentials[0]?.type ?? ''}`;
      page(res, homePage(l, c.store.snapshot, {}, { kind: out.warnings.length ? 'warn' : 'notice', text: [text, ...out.warnings.map((w) => half(w, l))].join(' ') }));
    } catch (e) {
      page(res, homePage(l, c.store.snapshot, { offer: String(req.body?.offer ?? '') }, { kind: 'warn', text: message(e, l) }), 400);
    }
  });

  r.post('/collect', async (req, res) => {
    const l = lang(req);
    const c = requireUnlocked(req, res);
    if (!c) return;
    const out = await collectPending(c);
    page(res, homePage(l, c.store.snapshot, {}, { kind: 'notice', text: `${out.received.length} ${T[l].received}; ${out.waiting} ${T[l].pending}` }));
  });

  async function showConsent(res: Response, l: Lang, request: string) {
    const c = ctx!;
    try {
      const plan = await preparePresentation(c, request);
      const id = randomUUID();
      const now = Date.now();
      for (const [k, v] of plans) if (v.until < now) plans.delete(k);
      plans.set(id, { plan, until: now + PLAN_TTL });
      page(res, consentPage(l, id, plan));
    } catch (e) {
      page(res, homePage(l, c.store.snapshot, {}, { kind: 'warn', text: message(e, l) }), 400);
    }
  }

  r.post('/present', async (req, res) => {
    if (!requireUnlocked(req, res)) return;
    await showConsent(res, lang(req), String(req.body?.request ?? ''));
  });

  r.post('/present/:id/:action', async (req, res) => {
    const l = lang(req);
    const c = requireUnlocked(req, res);
    if (!c) return;
    const entry = plans.get(String(req.params.id));
    plans.delete(String(req.params.id));
    if (!entry || entry.until < Date.now()) return page(res, homePage(l, c.store.snapshot, {}, { kind: 'warn', text: l === 'de' ? 'Die Anfrage ist abgelaufen.' : 'The request has expired.' }), 400);
    try {
      if (req.params.action === 'decline') {
        await declinePresentation(c, entry.plan);
        return page(res, homePage(l, c.store.snapshot, {}, { kind: 'notice', text: T[l].declined }));
      }
      const choice: Record<string, string> = {};
      const body = (req.body ?? {}) as Record<string, string>;
      for (const q of entry.plan.queries) {
        if (body[`choice_${q.queryId}`]) choice[q.queryId] = body[`choice_${q.queryId}`]!;
      }
      // Optional queries are shared only when their box stayed ticked.
      const plan = { ...entry.plan, queries: entry.plan.queries.filter((q) => q.required || body[`include_${q.queryId}`] === '1') };
      await sendPresentation(c, plan, choice, { includeOptional: true });
      page(res, homePage(l, c.store.snapshot, {}, { kind: 'notice', text: T[l].shared }));
    } catch (e) {
      opts.logger.warn({ err: { name: (e as Error).name } }, 'presentation failed');
      page(res, homePage(l, c.store.snapshot, {}, { kind: 'warn', text: message(e, l) }), 400);
    }
  });

  r.get('/history', (req, res) => {
    const c = requireUnlocked(req, res);
    if (!c) return;
    page(res, historyPage(lang(req), c.store.snapshot.history));
  });
  r.get('/history.json', (req, res) => {
    const c = requireUnlocked(req, res);
    if (!c) return;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', 'attachment; filename="wallet-verlauf.json"');
    res.json({ exported_at: new Date().toISOString(), history: c.store.snapshot.history });
  });

  r.post('/credentials/:group/delete', (req, res) => {
    const l = lang(req);
    const c = requireUnlocked(req, res);
    if (!c) return;
    const group = String(req.params.group);
    // Nothing to delete: say so, and leave the store file as it is.
    if (!c.store.snapshot.credentials.some((x) => x.group === group)) return page(res, homePage(l, c.store.snapshot, {}, { kind: 'warn', text: l === 'de' ? 'Diesen Nachweis gibt es nicht (mehr).' : 'This credential does not exist (any more).' }), 404);
    c.store.update((d) => {
      const keys = new Set(d.credentials.filter((x) => x.group === group).map((x) => x.keyId));
      d.credentials = d.credentials.filter((x) => x.group !== group);
      d.keys = d.keys.filter((k) => !keys.has(k.id));
    });
    page(res, homePage(l, c.store.snapshot, {}, { kind: 'notice', text: T[l].deleted }));
  });
  return r;
}
