import type { PresentationPlan } from '../core/present.ts';
import type { SelfServiceOffice } from '../core/self-service.ts';
import type { StoredCredential, WalletData } from '../core/store.ts';
import { half, T, type Lang } from './i18n.ts';

/**
 * Server-rendered pages that work without script: every control is a labelled form element, usable by
 * keyboard and screen reader. The one script, the camera scanner, only adds a scan button to the forms.
 */

export const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const CSS = `
:root{--blue:#004f9f;--text:#111;--muted:#444}
body{font-family:system-ui,sans-serif;margin:0;color:var(--text);background:#fff;line-height:1.5}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;color:var(--blue);padding:.5rem;z-index:2}
header{background:var(--blue);color:#fff;padding:1rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff}
header .tools{display:flex;gap:1rem;align-items:center}header .tools button{margin-top:0}
main{max-width:46rem;margin:1rem auto;padding:0 1rem}
section{margin:1.5rem 0}
label{display:block;font-weight:600;margin-top:.75rem}
input,select,button{font-size:1rem;padding:.5rem;margin-top:.25rem;max-width:100%}
input[type=text],input[type=password]{width:100%;box-sizing:border-box}
button{background:var(--blue);color:#fff;border:0;border-radius:.25rem;cursor:pointer;margin-top:.75rem}
button.secondary{background:#fff;color:var(--blue);border:2px solid var(--blue)}
a.button{display:inline-block;background:var(--blue);color:#fff;border-radius:.25rem;padding:.5rem 1rem;text-decoration:none}
a:focus,button:focus,input:focus,select:focus{outline:3px solid #b35c00;outline-offset:2px}
.card{border:1px solid #888;border-radius:.5rem;padding:1rem;margin:.75rem 0}
.notice{border-left:6px solid #1b6e1b;background:#e8f5e6;padding:.75rem}
.warn{border-left:6px solid #a11;background:#fbe9e9;padding:.75rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:.5rem 0}dt{font-weight:600}
.muted{color:var(--muted)}
`;

export type Flash = { kind: 'notice' | 'warn'; text: string };

/** `unlocked`: the page belongs to a session, so it offers to lock the wallet. */
export function layout(lang: Lang, title: string, body: string, flash?: Flash, unlocked = false): string {
  const t = T[lang];
  const lock = unlocked ? `<form method="post" action="/lock"><button class="secondary" type="submit">${esc(t.lock)}</button></form>` : '';
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} – ID-Ideal Wallet</title><link rel="stylesheet" href="/static/wallet.css"></head>
<body>
<a class="skip" href="#main">${esc(t.skip)}</a>
<header><span>ID-Ideal Wallet</span><div class="tools"><a href="/lang/${lang === 'de' ? 'en' : 'de'}" lang="${lang === 'de' ? 'en' : 'de'}">${esc(t.switchLang)}</a>${lock}</div></header>
<main id="main">
<h1>${esc(title)}</h1>
${flash ? `<p class="${flash.kind}" role="${flash.kind === 'warn' ? 'alert' : 'status'}">${esc(flash.text)}</p>` : ''}
${body}
</main>
</body></html>`;
}

/** A link's offer or request survives the unlock: it is carried in the form and filled in afterwards. */
export type Prefill = { offer?: string; request?: string };

export function unlockPage(lang: Lang, flash?: Flash, prefill: Prefill = {}, create = false): string {
  const t = T[lang];
  const carried = (['offer', 'request'] as const).map((k) => (prefill[k] ? `<input type="hidden" name="${k}" value="${esc(prefill[k])}">` : '')).join('');
  // First use sets the wallet up: the passphrase twice, and a hint what makes it strong.
  const fields = create
    ? `<p>${esc(t.createIntro)}</p>
<label for="passphrase">${esc(t.newPassphrase)}</label>
<input id="passphrase" name="passphrase" type="password" autocomplete="new-password" minlength="12" required aria-describedby="pp-hint">
<p id="pp-hint">${esc(t.passphraseHint)}</p>
<label for="passphrase_repeat">${esc(t.repeatPassphrase)}</label>
<input id="passphrase_repeat" name="passphrase_repeat" type="password" autocomplete="new-password" minlength="12" required>
<button type="submit">${esc(t.create)}</button>`
    : `<label for="passphrase">${esc(t.passphrase)}</label>
<input id="passphrase" name="passphrase" type="password" autocomplete="current-password" minlength="8" required>
<button type="submit">${esc(t.unlock)}</button>`;
  return layout(lang, create ? t.createTitle : t.unlockTitle, `<form method="post" action="/unlock">${carried}
${fields}
</form>`, flash);
}

/** Deleting is final: the citizen confirms on a page of its own (works without JavaScript). */
export function deleteConfirmPage(lang: Lang, group: string, c: StoredCredential): string {
  const t = T[lang];
  return layout(
    lang,
    t.deleteTitle,
    `<p>${esc(t.deleteQuestion(credName(c, lang), c.issuerName?.[lang] ?? c.issuer))}</p>
<form method="post" action="/credentials/${esc(group)}/delete"><input type="hidden" name="confirm" value="1"><button type="submit">${esc(t.deleteConfirm)}</button></form>
<p><a href="/">${esc(t.keep)}</a></p>`,
    undefined,
    true,
  );
}

/** The answer to a request for another host name (DNS rebinding): no wallet content, no links. */
export function hostRefusedPage(): string {
  return `<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><title>Falsche Adresse / Wrong address – ID-Ideal Wallet</title></head>
<body>
<main>
<h1>Falsche Adresse</h1>
<p>Diese Wallet antwortet nur unter ihrer eigenen Adresse. Bitte öffnen Sie sie über die Adresse, die Sie eingerichtet haben (zum Beispiel http://localhost:3004).</p>
<h2 lang="en">Wrong address</h2>
<p lang="en">This wallet answers only at its own address. Please open it at the address you set up (for example http://localhost:3004).</p>
</main>
</body></html>`;
}

const claimLabel = (c: StoredCredential, key: string, lang: Lang) => c.display?.claims?.[key]?.[lang] ?? key;
const credName = (c: StoredCredential, lang: Lang) => c.display?.name?.[lang] ?? c.type;

/** A claim value as a person reads it: ja/nein, nested members joined (an address in one line). */
function formatValue(v: unknown, lang: Lang): string {
  if (typeof v === 'boolean') return v ? (lang === 'de' ? 'ja' : 'yes') : lang === 'de' ? 'nein' : 'no';
  if (Array.isArray(v)) return v.map((x) => formatValue(x, lang)).join(', ');
  // A full date as people write it in German (01.04.1990); English keeps ISO 8601.
  if (typeof v === 'string' && lang === 'de' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return v.split('-').reverse().join('.');
  if (v !== null && typeof v === 'object') {
    // A German postal address in the order people write it: "Markt 1, 04109 Leipzig".
    const a = v as Record<string, unknown>;
    if (typeof a.strasse === 'string' && typeof a.ort === 'string') return `${[a.strasse, a.hausnummer].filter(Boolean).join(' ')}, ${[a.postleitzahl, a.ort].filter(Boolean).join(' ')}`;
  }
  if (v !== null && typeof v === 'object') return Object.values(v as Record<string, unknown>).map((x) => formatValue(x, lang)).join(' ');
  return String(v ?? '');
}

function claimList(c: StoredCredential, lang: Lang): string {
  const rows: string[] = [];
  for (const [k, v] of Object.entries(c.claims)) rows.push(`<dt>${esc(claimLabel(c, k, lang))}</dt><dd>${esc(formatValue(v, lang))}</dd>`);
  return `<dl>${rows.join('')}</dl>`;
}

/** Exactly what would leave the wallet from this credential: each asked claim with its value. */
function sharedValues(c: StoredCredential, paths: (string | number | null)[][], lang: Lang): string {
  const rows = paths.map((path) => {
    const p = path.filter((s) => s !== 'credentialSubject');
    let v: unknown = c.claims;
    for (const seg of p) v = v !== null && typeof v === 'object' && typeof seg !== 'object' ? (v as Record<string, unknown>)[String(seg)] : undefined;
    return `<dt>${esc(claimLabel(c, p.map(String).join('.'), lang))}</dt><dd>${esc(formatValue(v, lang))}</dd>`;
  });
  return `<dl class="shared">${rows.join('')}</dl>`;
}

/** Shown by the scanner script only where a camera can be asked for; without script the forms take pasted links. */
function scanButton(lang: Lang): string {
  const m = T[lang].scan;
  const data = { starting: m.starting, looking: m.looking, 'found-request': m.foundRequest, 'found-offer': m.foundOffer, unknown: m.unknown, timeout: m.timeout, denied: m.denied };
  return ` <button type="button" class="secondary" hidden data-scan${Object.entries(data).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('')}>${esc(m.button)}</button>`;
}

/** "Online beantragen / Apply online": the offices offering self-service, one form each (docs/self-service.md). */
function applySection(lang: Lang, offices: readonly SelfServiceOffice[]): string {
  if (offices.length === 0) return '';
  const t = T[lang];
  const items = offices
    .map((o) => `<li><form method="post" action="/self-service/start"><input type="hidden" name="office" value="${esc(o.url)}"><span>${esc(o.name[lang])}</span> <button type="submit" aria-label="${esc(`${t.apply}: ${o.name[lang]}`)}">${esc(t.apply)}</button></form></li>`)
    .join('');
  return `<section aria-labelledby="h-apply"><h2 id="h-apply">${esc(t.applyTitle)}</h2><p>${esc(t.applyIntro)}</p><ul>${items}</ul></section>`;
}

export function homePage(lang: Lang, data: Readonly<WalletData>, prefill: Prefill, flash?: Flash, offices: readonly SelfServiceOffice[] = []): string {
  const t = T[lang];
  const groups = new Map<string, StoredCredential[]>();
  for (const c of data.credentials) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  const cards = [...groups.entries()]
    .map(([group, copies]) => {
      const c = copies[0]!;
      return `<article class="card" aria-labelledby="c-${esc(group)}">
<h3 id="c-${esc(group)}">${esc(credName(c, lang))}</h3>
<p>${esc(t.issuedBy)}: ${c.issuerName ? esc(c.issuerName[lang]) : `<strong>${esc(t.unregisteredIssuer)}</strong> (${esc(c.issuer)})`}${c.expiresAt ? ` · ${esc(t.validUntil)} ${esc(formatValue(c.expiresAt.slice(0, 10), lang))}` : ''} · ${copies.length} ${esc(t.copies)}</p>
${claimList(c, lang)}
<form method="post" action="/credentials/${esc(group)}/delete"><button class="secondary" type="submit">${esc(t.delete)}<span class="skip"> ${esc(credName(c, lang))}</span></button></form>
</article>`;
    })
    .join('');
  const pending = (data.pending ?? []).length
    ? `<p class="notice">${esc(t.pending)}: ${(data.pending ?? []).length}</p><form method="post" action="/collect"><button type="submit">${esc(t.collect)}</button></form>`
    : '';
  return layout(
    lang,
    t.title,
    `<section aria-labelledby="h-creds"><h2 id="h-creds">${esc(t.credentials)}</h2>${cards || `<p>${esc(t.none)}</p>`}${pending}</section>
<section aria-labelledby="h-receive"><h2 id="h-receive">${esc(t.receiveTitle)}</h2>
<form method="post" action="/receive">
<label for="offer">${esc(t.offer)}</label><input id="offer" name="offer" type="text" value="${esc(prefill.offer ?? '')}" required>
<label for="tx_code">${esc(t.txCode)}</label><input id="tx_code" name="tx_code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9A-Za-z]{1,16}">
<button type="submit">${esc(t.receive)}</button>${scanButton(lang)}</form></section>
${applySection(lang, offices)}
<section aria-labelledby="h-present"><h2 id="h-present">${esc(t.presentTitle)}</h2>
<form method="post" action="/present">
<label for="request">${esc(t.request)}</label><input id="request" name="request" type="text" value="${esc(prefill.request ?? '')}" required>
<button type="submit">${esc(t.check)}</button>${scanButton(lang)}</form></section>
<video id="camera" hidden muted playsinline aria-label="${esc(t.scan.camera)}"></video><p id="scan-status" aria-live="polite"></p>
<p><a href="/history">${esc(t.history)}</a></p>
<script src="/static/jsqr.js"></script><script src="/static/scan.js"></script>`,
    flash,
    true,
  );
}

export function consentPage(lang: Lang, id: string, plan: PresentationPlan): string {
  const t = T[lang];
  const queries = plan.queries
    .map((q) => {
      const name = q.candidates[0] ? credName(q.candidates[0], lang) : q.type === '?' ? t.otherCredential : q.type;
      // A credential the wallet does not hold is worth a line only when the request cannot be
      // answered without it; an alternative or optional one the citizen lacks is no news.
      if (q.candidates.length === 0) return plan.canSatisfy ? '' : `<li>${esc(name)}${q.required ? '' : ` (${esc(t.optional)})`}: ${esc(t.notHeld)}</li>`;
      const groups = [...new Map(q.candidates.map((c) => [c.group, c])).values()];
      const option = (c: StoredCredential) => `${credName(c, lang)} – ${c.issuerName?.[lang] ?? c.issuer} (${c.receivedAt.slice(0, 10)})`;
      // The values that would leave, per credential the citizen could pick.
      const values = groups.length > 1 ? groups.map((c) => `<p>${esc(option(c))}:</p>${sharedValues(c, q.claims, lang)}`).join('') : sharedValues(groups[0]!, q.claims, lang);
      const chooser =
        groups.length > 1
          ? `<label for="q-${esc(q.queryId)}">${esc(t.choose)}</label><select id="q-${esc(q.queryId)}" name="choice_${esc(q.queryId)}">${groups.map((c) => `<option value="${esc(c.id)}">${esc(option(c))}</option>`).join('')}</select>`
          : '';
      // Optional credentials leave only when the citizen ticks them: nothing optional is pre-ticked.
      const optional = q.required ? '' : `<label><input type="checkbox" name="include_${esc(q.queryId)}" value="1"> ${esc(t.alsoShare)} ${esc(name)} (${esc(t.optional)})</label>`;
      return `<li><strong>${esc(name)}</strong>${values}${optional}${chooser}</li>`;
    })
    .join('');
  return layout(
    lang,
    t.consentTitle,
    `<dl><dt>${esc(t.asking)}</dt><dd>${esc(plan.verifierName?.[lang] ?? plan.verifier)}</dd>${plan.purpose ? `<dt>${esc(t.purpose)}</dt><dd>${esc(plan.purpose[lang])}</dd>` : ''}</dl>
${plan.registered ? `<p class="notice">${esc(t.registered)}</p>` : `<div class="warn" role="alert"><strong>${esc(t.warning)}:</strong><ul>${plan.warnings.map((w) => `<li>${esc(half(w, lang))}</li>`).join('')}</ul></div>`}
<form method="post" action="/present/${esc(id)}/share">
<p>${esc(t.willShare)}</p><ul>${queries}</ul>
<button type="submit"${plan.canSatisfy ? '' : ' disabled'}>${esc(t.share)}</button>
</form>
<form method="post" action="/present/${esc(id)}/decline"><button class="secondary" type="submit">${esc(t.decline)}</button></form>`,
    undefined,
    true,
  );
}

/** Local time of the citizen's device, as people read it (04.12.2026, 17:05). */
function localTime(iso: string, lang: Lang): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(lang === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function historyPage(lang: Lang, data: Readonly<WalletData>): string {
  const t = T[lang];
  // Display names of the types the wallet knows (from the issuers' metadata), never a raw `urn:`;
  // a type the wallet no longer holds is named by its last segment.
  const names = new Map<string, string>();
  for (const c of data.credentials) if (c.display?.name?.[lang]) names.set(c.type, c.display.name[lang]!);
  const typeName = (type: string) => names.get(type) ?? type.split(':').pop()!.replace(/[-_]/g, ' ').replace(/^./, (x) => x.toUpperCase());
  const labelOf = (type: string, claim: string) => data.credentials.find((c) => c.type === type)?.display?.claims?.[claim]?.[lang] ?? claim;
  const rows = [...data.history]
    .reverse()
    .map((h) => `<li><time datetime="${esc(h.at)}">${esc(localTime(h.at, lang))}</time> · ${esc(h.verifierName?.[lang] ?? h.verifier)} · ${esc(t.outcome[h.outcome])}${h.shared.length ? `: ${h.shared.map((s) => `${esc(typeName(s.type))} (${s.claims.map((k) => esc(labelOf(s.type, k))).join(', ')})`).join('; ')}` : ''}</li>`)
    .join('');
  return layout(lang, t.history, `${rows ? `<ul>${rows}</ul>` : `<p>${esc(t.historyNone)}</p>`}<p><a href="/history.json" download="wallet-verlauf.json">${esc(t.export)}</a></p><p><a href="/">${esc(t.back)}</a></p>`, undefined, true);
}

/**
 * After the wallet pushed the authorization request: where the citizen logs in next. A link, not a
 * redirect: the wallet's pages allow form submissions to this origin only (`form-action 'self'`), and
 * the citizen sees which office asks for the login before leaving the wallet.
 */
export function selfServiceLoginPage(lang: Lang, office: string, authorizationUrl: string): string {
  const t = T[lang];
  return layout(lang, t.loginTitle, `<p>${esc(t.loginIntro(office))}</p>
<p><a class="button" href="${esc(authorizationUrl)}">${esc(t.toLogin)}</a></p>
<p><a href="/">${esc(t.cancel)}</a></p>`, undefined, true);
}

/**
 * The office sent the browser back without the wallet's session cookie (SameSite=Strict is not sent
 * after a redirect from another site): one click in the wallet's own page continues, with the cookie.
 * Nothing of the wallet is shown here.
 */
export function selfServiceReturnPage(lang: Lang, responseUrl: string): string {
  const t = T[lang];
  return layout(lang, t.backTitle, `<p>${esc(t.backIntro)}</p>
<form method="post" action="/self-service/callback"><input type="hidden" name="response" value="${esc(responseUrl)}"><button type="submit">${esc(t.collectNow)}</button></form>
<p><a href="/">${esc(t.cancel)}</a></p>`);
}
