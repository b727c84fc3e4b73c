import type { ClaimDef, CredentialTypeDef } from '../../core/catalog/model.ts';
import { LEIPZIG } from '../../core/demo/leipzig.ts';
import type { I18nText } from '../../core/trust/model.ts';
import { WALLET_ERROR_TEXT } from '../last-attempt.ts';
import type { ReasonCode } from '../verdict.ts';

/**
 * The counter page (German by default, English with ?lang=en): a clerk picks what to check, shows
 * the QR code or the same-device link, and the verdict appears by itself, readable at a glance:
 * green or red with the reasons in our words, the credential's type and issuer by name, its claims
 * in the type's order with their labels, values as people write them (ja/nein, 01.04.1990,
 * "Markt 1, 04109 Leipzig", enum labels). The page talks to the counter API with the bearer token
 * the clerk enters (kept in this tab's sessionStorage only). Problems of the API are shown by their
 * problem `type` (RFC 9457 §3.1.1) in our words; no `detail`, no wallet text, no raw JSON reaches the
 * clerk. All dynamic text is set with textContent in counter.js; nothing is parsed as HTML.
 *
 * Where the browser has the W3C Digital Credentials API (`navigator.credentials` and
 * `DigitalCredential`), the page also offers "with a wallet on this device": it asks the counter API
 * for a signed `openid4vp-v1-signed` request (OID4VP 1.0 Appendix A, verifier/use-cases/dc-api.ts),
 * passes it to `navigator.credentials.get` and hands the answer back to the counter API; the verdict
 * appears as for the QR code. If that fails (no wallet, cancelled), the page says so and the QR code
 * stays. Without the API the page is the QR / link page only.
 */

type Lang = 'de' | 'en';

/** What the counter offers and how it shows claims: its templates and the catalogue's credential types. */
export interface CounterView {
  templates: { id: string; name: I18nText }[];
  types: CredentialTypeDef[];
}

const T = {
  de: {
    title: 'Nachweise prüfen',
    token: 'Zugangsschlüssel der Theke',
    choose: 'Was soll geprüft werden?',
    start: 'Prüfung starten',
    scan: 'Bitte mit der Wallet scannen oder auf diesem Gerät öffnen:',
    qrAlt: 'QR-Code der Anfrage',
    open: 'In der Wallet öffnen',
    openWeb: 'In der Web-Wallet öffnen (gleiches Gerät)',
    dcApi: 'Mit einer Wallet auf diesem Gerät',
    close: 'Ergebnis schließen',
    switchTo: 'English',
    switchHref: '?lang=en',
  },
  en: {
    title: 'Check credentials',
    token: 'Counter access key',
    choose: 'What do you want to check?',
    start: 'Start check',
    scan: 'Scan with the wallet or open on this device:',
    qrAlt: 'QR code of the request',
    open: 'Open in wallet',
    openWeb: 'Open in the web wallet (same device)',
    dcApi: 'With a wallet on this device',
    close: 'Close result',
    switchTo: 'Deutsch',
    switchHref: '?lang=de',
  },
} as const;

/** Texts the script sets. `{status}` is the HTTP status, the only part of a failed answer shown. */
const SCRIPT_TEXT = {
  de: {
    waiting: 'Warte auf die Antwort der Wallet …',
    retrying: 'Verbindung zum Prüfdienst gestört – neuer Versuch läuft …',
    ok: 'Geprüft: gültig',
    bad: 'Nicht bestätigt',
    expired: 'Anfrage abgelaufen – bitte neu starten',
    expiredHelp: 'Die Wallet hat nicht rechtzeitig geantwortet. Mit „Prüfung starten“ eine neue Anfrage erzeugen.',
    attempt: 'Eine Vorlage wurde nicht bestätigt (noch kein Ergebnis, die Anfrage ist weiter offen):',
    issuedBy: 'Ausgestellt von',
    unknownIssuer: 'unbekannte Stelle',
    unknownType: 'Nachweis (Art nicht im Katalog)',
    reasonUnknown: 'Der Nachweis konnte nicht bestätigt werden.',
    warning: 'Hinweis: Nicht alles ließ sich aktuell prüfen (zum Beispiel der Sperrstatus); es wurde ein kurz zuvor geprüfter Stand verwendet.',
    network: 'Keine Verbindung zum Prüfdienst – bitte Netzwerk prüfen und erneut versuchen.',
    generic: 'Das hat nicht geklappt (Fehler {status}). Bitte erneut versuchen; wenn es wieder nicht klappt, die IT verständigen.',
    dcWaiting: 'Die Wallet auf diesem Gerät ist gefragt …',
    dcCancelled: 'Abgebrochen, oder auf diesem Gerät ist keine passende Wallet. Der QR-Code gilt weiter.',
    dcUnavailable: 'Die Wallet auf diesem Gerät ließ sich nicht aufrufen. Der QR-Code gilt weiter.',
    yes: 'ja',
    no: 'nein',
    empty: '–',
    months: [] as string[],
  },
  en: {
    waiting: 'Waiting for the wallet’s answer …',
    retrying: 'Connection to the checking service interrupted – trying again …',
    ok: 'Checked: valid',
    bad: 'Not confirmed',
    expired: 'Request expired – start a new one',
    expiredHelp: 'The wallet did not answer in time. Use “Start check” to create a new request.',
    attempt: 'A presentation was not confirmed (no result yet, the request is still open):',
    issuedBy: 'Issued by',
    unknownIssuer: 'unknown organisation',
    unknownType: 'Credential (type not in the catalogue)',
    reasonUnknown: 'The credential could not be confirmed.',
    warning: 'Note: not everything could be checked live (for example the revocation status); a state checked shortly before was used.',
    network: 'No connection to the checking service – please check the network and try again.',
    generic: 'That did not work (error {status}). Please try again; if it fails again, call IT support.',
    dcWaiting: 'Asking the wallet on this device …',
    dcCancelled: 'Cancelled, or there is no suitable wallet on this device. The QR code still works.',
    dcUnavailable: 'The wallet on this device could not be called. The QR code still works.',
    yes: 'yes',
    no: 'no',
    empty: '–',
    // Dates in English as "1 April 1990": unambiguous for every reader, unlike 01/04/1990.
    months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  },
};

/** A verdict's reason codes (verifier/verdict.ts) in words for the clerk; typed so that a new code needs a text here. */
const REASON_TEXT: Record<ReasonCode, I18nText> = {
  invalid_presentation: { de: 'Die Antwort der Wallet war unlesbar oder unvollständig.', en: 'The wallet’s answer was unreadable or incomplete.' },
  invalid_signature: { de: 'Die Signatur des Nachweises stimmt nicht – er könnte verändert worden sein.', en: 'The credential’s signature does not match – it may have been altered.' },
  invalid_disclosure: { de: 'Angaben passen nicht zum Nachweis – sie könnten verändert worden sein.', en: 'Some details do not belong to the credential – they may have been altered.' },
  holder_binding_failed: { de: 'Der Nachweis wurde nicht von der Person vorgelegt, der er gehört.', en: 'The credential was not presented by the person it belongs to.' },
  nonce_mismatch: { de: 'Die Antwort gehört zu einer anderen Prüfung.', en: 'The answer belongs to another check.' },
  audience_mismatch: { de: 'Die Antwort war für eine andere Stelle bestimmt.', en: 'The answer was meant for another organisation.' },
  expired: { de: 'Der Nachweis ist abgelaufen.', en: 'The credential has expired.' },
  not_yet_valid: { de: 'Der Nachweis gilt noch nicht.', en: 'The credential is not valid yet.' },
  credential_revoked: { de: 'Der Nachweis wurde widerrufen.', en: 'The credential has been revoked.' },
  credential_suspended: { de: 'Der Nachweis ist vorübergehend gesperrt.', en: 'The credential is suspended for now.' },
  status_unavailable: { de: 'Ob der Nachweis gesperrt ist, lässt sich gerade nicht prüfen.', en: 'Whether the credential has been blocked cannot be checked right now.' },
  untrusted_issuer: { de: 'Die ausstellende Stelle ist für diesen Nachweis nicht im Vertrauensregister eingetragen.', en: 'The issuing office is not listed in the trust registry for this credential.' },
  issuer_certificate_invalid: { de: 'Das Zertifikat der ausstellenden Stelle ist ungültig: nicht von einer vertrauenswürdigen Stadt-CA, abgelaufen oder für eine andere Stelle.', en: 'The issuing office’s certificate is invalid: not from a trusted city CA, expired, or made out to another office.' },
  issuer_suspended: { de: 'Die ausstellende Stelle ist derzeit gesperrt.', en: 'The issuing office is currently suspended.' },
  issuer_revoked: { de: 'Der ausstellenden Stelle wurde die Berechtigung entzogen.', en: 'The issuing office’s authorisation was withdrawn.' },
  trust_unavailable: { de: 'Das Vertrauensregister ist gerade nicht erreichbar.', en: 'The trust registry cannot be reached right now.' },
  query_not_satisfied: { de: 'Die Antwort enthält nicht die angefragten Angaben.', en: 'The answer does not contain the requested details.' },
  replay: { de: 'Diese Antwort wurde schon einmal verwendet.', en: 'This answer has already been used.' },
  declined: { de: 'Die Person hat abgelehnt, oder die Wallet konnte nicht antworten.', en: 'The person declined, or the wallet could not answer.' },
};

const TOKEN_WRONG: I18nText = { de: 'Zugangsschlüssel falsch – bitte prüfen und neu eingeben.', en: 'Access key wrong – please check it and enter it again.' };
const TOKEN_NOT_HERE: I18nText = { de: 'Dieser Zugangsschlüssel gilt nicht für diese Theke.', en: 'This access key is not valid for this counter.' };

/**
 * Problems of the counter API by the last segment of their `type` (urn:id-ideal:problem:*). `token`
 * marks the ones the clerk fixes in the access key field. Anything else: the generic text.
 */
const PROBLEM_TEXT: Record<string, I18nText & { token?: true }> = {
  unauthorized: { ...TOKEN_WRONG, token: true },
  'rate-limited': { de: 'Zu viele falsche Zugangsschlüssel – bitte eine Minute warten und erneut versuchen.', en: 'Too many wrong access keys – please wait a minute and try again.', token: true },
  'out-of-scope': { ...TOKEN_NOT_HERE, token: true },
  'insufficient-role': { ...TOKEN_NOT_HERE, token: true },
  'exceeds-registration': { de: 'Diese Theke ist im Vertrauensregister nicht für diese Prüfung eingetragen.', en: 'This counter is not registered in the trust registry for this check.' },
  'trust-registry-unavailable': { de: 'Das Vertrauensregister ist gerade nicht erreichbar – bitte gleich noch einmal versuchen.', en: 'The trust registry cannot be reached right now – please try again shortly.' },
  'unknown-template': { de: 'Diese Prüfung gibt es nicht mehr – bitte die Seite neu laden.', en: 'This check no longer exists – please reload the page.' },
  'unknown-verifier': { de: 'Diese Theke ist nicht (mehr) eingerichtet – bitte die IT verständigen.', en: 'This counter is not (or no longer) set up – please call IT support.' },
  'unknown-request': { de: 'Die Anfrage ist nicht mehr vorhanden (abgelaufen oder Ergebnis gelöscht) – bitte neu starten.', en: 'The request no longer exists (expired or its result deleted) – please start a new one.' },
  'invalid-dc-api-response': { de: 'Die Antwort der Wallet auf diesem Gerät gehört nicht zu dieser Prüfung. Der QR-Code gilt weiter.', en: 'The answer of the wallet on this device does not belong to this check. The QR code still works.' },
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** One claim as the script shows it: label in the page's language, enum values as labels, members in order. */
interface ShownClaim {
  name: string;
  label: string;
  type: ClaimDef['type'];
  values?: Record<string, string>;
  claims?: ShownClaim[];
}

function shownClaim(c: ClaimDef, lang: Lang): ShownClaim {
  return {
    name: c.name,
    label: c.label[lang],
    type: c.type,
    ...(c.type === 'enum' ? { values: Object.fromEntries(c.values.map((v) => [v.value, v.label[lang]])) } : {}),
    ...(c.type === 'address' || c.type === 'object' ? { claims: c.claims.map((m) => shownClaim(m, lang)) } : {}),
  };
}

/** Until the verifier passes its catalogue: the Demo Leipzig counter's templates (all of them for a counter not in it) and types. */
function demoView(slug: string): CounterView {
  const rp = LEIPZIG.relying_parties.find((r) => r.slug === slug);
  const all = LEIPZIG.relying_parties.flatMap((r) => r.templates).filter((t, i, a) => a.findIndex((x) => x.id === t.id) === i);
  return { templates: rp ? rp.templates : all, types: LEIPZIG.credential_types };
}

/** The data the script reads from the page (`#view`): JSON, with `<` escaped so it cannot end the element. */
function scriptData(lang: Lang, view: CounterView): string {
  const data = {
    lang,
    text: SCRIPT_TEXT[lang],
    types: view.types.map((t) => ({ vct: t.vct, name: t.name[lang], claims: t.claims.map((c) => shownClaim(c, lang)) })),
    reasons: Object.fromEntries(Object.entries(REASON_TEXT).map(([k, v]) => [k, v[lang]])),
    // The wallet error texts of verifier/last-attempt.ts, "Deutsch / English".
    walletErrors: Object.fromEntries(Object.entries(WALLET_ERROR_TEXT).map(([k, v]) => [k, v.split(' / ')[lang === 'de' ? 0 : 1] ?? v])),
    problems: Object.fromEntries(Object.entries(PROBLEM_TEXT).map(([k, v]) => [k, { text: v[lang], token: v.token === true }])),
  };
  return JSON.stringify(data).replace(/</g, '\\u003c');
}

export function counterPage(rp: { slug: string; name: I18nText }, lang: Lang, walletUrl: string, view?: CounterView): string {
  const t = T[lang];
  const v = view ?? demoView(rp.slug);
  const options = v.templates.map((x) => `<option value="${esc(x.id)}">${esc(x.name[lang])}</option>`).join('');
  const other = lang === 'de' ? 'en' : 'de';
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t.title)} – ${esc(rp.name[lang])}</title>
<link rel="stylesheet" href="/static/counter.css">
</head>
<body>
<header><h1>${esc(t.title)}</h1><p>${esc(rp.name[lang])}</p><a href="${t.switchHref}" lang="${other}">${esc(t.switchTo)}</a></header>
<main id="counter" data-slug="${esc(rp.slug)}" data-wallet="${esc(walletUrl)}">
<form id="start">
  <label for="token">${esc(t.token)}</label>
  <input id="token" name="token" type="password" autocomplete="off" required>
  <label for="template">${esc(t.choose)}</label>
  <select id="template" name="template">${options}</select>
  <button type="submit">${esc(t.start)}</button>
</form>
<p id="error" role="alert"></p>
<section id="request" hidden>
  <p>${esc(t.scan)}</p>
  <img id="qr" alt="${esc(t.qrAlt)}" width="280" height="280">
  <p><a id="link" href="#">${esc(t.open)}</a> · <a id="weblink" href="#">${esc(t.openWeb)}</a></p>
  <p id="dcapi-row" hidden><button id="dcapi" type="button">${esc(t.dcApi)}</button></p>
  <p id="dcapi-msg" role="status"></p>
  <p id="state" role="status"></p>
  <p id="hint" role="status" hidden></p>
</section>
<div id="verdict-live" aria-live="assertive">
<section id="verdict" hidden tabindex="-1" aria-labelledby="verdict-title">
  <h2 id="verdict-title"></h2>
  <div id="verdict-body"></div>
  <button id="close" type="button">${esc(t.close)}</button>
</section>
</div>
</main>
<script type="application/json" id="view">${scriptData(lang, v)}</script>
<script src="/static/counter.js" defer></script>
</body>
</html>`;
}

export const COUNTER_CSS = `
body{font-family:system-ui,sans-serif;margin:0;color:#111;background:#fff}
header{background:#004f9f;color:#fff;padding:1rem 1.5rem}header a{color:#fff}
main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}
label{display:block;margin-top:1rem;font-weight:600}
input,select,button{font-size:1.1rem;padding:.5rem;margin-top:.25rem}
button{background:#004f9f;color:#fff;border:0;border-radius:.25rem;margin-top:1rem;cursor:pointer}
button:focus,a:focus,input:focus,select:focus,#verdict:focus{outline:3px solid #f5a300;outline-offset:2px}
input[aria-invalid=true]{border:3px solid #a11}
#error{background:#fbe4e4;border:3px solid #a11;padding:.75rem;border-radius:.25rem;font-weight:600}
#error:empty{display:none}
#hint{background:#fff4d6;border:2px solid #a66b00;padding:.5rem;border-radius:.25rem}
#hint.bad{background:#fbe4e4;border:3px solid #a11}
#verdict{padding:1rem;border-radius:.5rem;margin-top:1rem}
#verdict h2{margin-top:0;font-size:1.6rem}
#verdict.ok{background:#e3f4e1;border:4px solid #1b6e1b}
#verdict.ok h2{color:#0f4d0f}
#verdict.ok h2::before{content:"\\2714\\FE0E  " / ""}
#verdict.bad{background:#fbe4e4;border:4px solid #a11}
#verdict.bad h2{color:#7a0000}
#verdict.bad h2::before,#verdict.expired h2::before{content:"\\2716\\FE0E  " / ""}
#verdict.expired{background:#fff4d6;border:4px solid #a66b00}
#verdict article{border-top:1px solid #8889;padding-top:.5rem;margin-top:.5rem}
#verdict h3{margin:.25rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600}
dd{margin:0}dd dl{margin:0}
#close{background:#fff;color:#004f9f;border:2px solid #004f9f}
#dcapi-msg:empty{display:none}
`;

export const COUNTER_JS = `
'use strict';
(function () {
  var main = document.getElementById('counter');
  var slug = main.dataset.slug;
  var view = JSON.parse(document.getElementById('view').textContent || '{}');
  var T = view.text;
  var tokenInput = document.getElementById('token');
  var errorEl = document.getElementById('error');
  var requestEl = document.getElementById('request');
  var qr = document.getElementById('qr');
  var stateEl = document.getElementById('state');
  var hintEl = document.getElementById('hint');
  var verdict = document.getElementById('verdict');
  var body = document.getElementById('verdict-body');
  var dcRow = document.getElementById('dcapi-row');
  var dcMsg = document.getElementById('dcapi-msg');
  // The W3C Digital Credentials API (OID4VP 1.0 Appendix A): offered only where the browser has it.
  var dcAvailable = typeof navigator.credentials === 'object' && navigator.credentials !== null && typeof navigator.credentials.get === 'function' && typeof DigitalCredential !== 'undefined';
  var dcReq = null;
  tokenInput.value = sessionStorage.getItem('counter-token') || '';
  var timer = null;
  var current = null;
  var qrUrl = null;
  var has = function (o, k) { return o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k); };

  function show(el, on) { el.hidden = !on; }
  function text(el, s) { el.textContent = s; }
  function node(tag, s) { var e = document.createElement(tag); if (s !== undefined) e.textContent = s; return e; }
  function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

  // ---- Values as people write them -------------------------------------------------------------
  // A full date (RFC 3339 full-date, as SD-JWT VC claims carry it): 01.04.1990 / 1 April 1990.
  function date(s) {
    var m = /^(\\d{4})-(\\d{2})-(\\d{2})$/.exec(s);
    if (!m || +m[2] < 1 || +m[2] > 12 || +m[3] < 1 || +m[3] > 31) return null;
    return view.lang === 'de' ? m[3] + '.' + m[2] + '.' + m[1] : (+m[3]) + ' ' + T.months[+m[2] - 1] + ' ' + m[1];
  }
  // A value without a definition (or not of its defined kind): still words, never JSON.
  function plain(v) {
    if (typeof v === 'boolean') return v ? T.yes : T.no;
    if (v === null || v === undefined || v === '') return T.empty;
    if (typeof v === 'string') return date(v) || v;
    if (typeof v === 'number') return String(v);
    if (Array.isArray(v)) return v.map(plain).join(', ');
    return Object.keys(v).map(function (k) { return k + ': ' + plain(v[k]); }).join(', ');
  }
  // The members of an object in the definition's order, then the unknown ones (by name) in the order received.
  function members(defs, obj) {
    var out = [];
    var known = {};
    (defs || []).forEach(function (d) {
      known[d.name] = true;
      if (has(obj, d.name)) out.push({ name: d.name, label: d.label, def: d, value: obj[d.name] });
    });
    Object.keys(obj).forEach(function (k) { if (!known[k]) out.push({ name: k, label: k, def: null, value: obj[k] }); });
    return out;
  }
  // A postal address in one line, as written in Germany: "Markt 1, 04109 Leipzig"; other members between.
  function address(def, v) {
    var words = function (keys) { return keys.map(function (k) { return v[k]; }).filter(function (x) { return typeof x === 'string' && x !== ''; }).join(' '); };
    var street = words(['strasse', 'hausnummer']);
    var town = words(['postleitzahl', 'ort']);
    var rest = members(def.claims, v).filter(function (m) { return ['strasse', 'hausnummer', 'postleitzahl', 'ort'].indexOf(m.name) < 0; }).map(function (m) { return value(m.def, m.value); });
    return [street].concat(rest.map(function (r) { return typeof r === 'string' ? r : r.textContent; }), [town]).filter(function (x) { return x; }).join(', ');
  }
  // A claim's value by its definition: a string, or a list of its members for a nested object.
  function value(def, v) {
    if (!def) return isObject(v) ? list(null, v) : plain(v);
    switch (def.type) {
      case 'boolean': return typeof v === 'boolean' ? (v ? T.yes : T.no) : plain(v);
      case 'date': return (typeof v === 'string' && date(v)) || plain(v);
      case 'enum': return typeof v === 'string' && has(def.values, v) ? def.values[v] : plain(v);
      case 'address': return isObject(v) ? address(def, v) : plain(v);
      case 'object': return isObject(v) ? list(def.claims, v) : plain(v);
      default: return plain(v);
    }
  }
  function list(defs, obj) {
    var dl = document.createElement('dl');
    members(defs, obj).forEach(function (m) {
      var dd = document.createElement('dd');
      var shown = value(m.def, m.value);
      if (typeof shown === 'string') text(dd, shown); else dd.appendChild(shown);
      dl.appendChild(node('dt', m.label));
      dl.appendChild(dd);
    });
    return dl;
  }
  function typeOf(vct) {
    for (var i = 0; i < view.types.length; i++) if (view.types[i].vct === vct) return view.types[i];
    return null;
  }

  // ---- The verdict: green, red, or expired ----------------------------------------------------
  function reasonText(code) { return has(view.reasons, code) ? view.reasons[code] : T.reasonUnknown; }
  function verdictShow(kind, title) {
    clearInterval(timer);
    current = null;
    dcReset();
    hint(null);
    body.replaceChildren();
    verdict.className = kind;
    text(document.getElementById('verdict-title'), title);
    show(requestEl, false);
    show(verdict, true);
  }
  function renderOk(result) {
    verdictShow('ok', T.ok);
    (result.credentials || []).forEach(function (c) {
      var type = typeOf(c.vct);
      var article = document.createElement('article');
      article.appendChild(node('h3', type ? type.name : T.unknownType));
      var issuer = (c.issuer_name_i18n && c.issuer_name_i18n[view.lang]) || c.issuer_name || T.unknownIssuer;
      article.appendChild(node('p', T.issuedBy + ': ' + issuer));
      article.appendChild(list(type ? type.claims : null, isObject(c.claims) ? c.claims : {}));
      body.appendChild(article);
    });
    if (result.warnings && result.warnings.length) body.appendChild(node('p', T.warning));
  }
  function renderBad(result) {
    verdictShow('bad', T.bad);
    var seen = {};
    var ul = document.createElement('ul');
    (result.errors || []).forEach(function (e) {
      var s = reasonText(e && e.code);
      if (seen[s]) return;
      seen[s] = true;
      ul.appendChild(node('li', s));
    });
    if (!ul.childNodes.length) ul.appendChild(node('li', T.reasonUnknown));
    body.appendChild(ul);
  }
  // OID4VP requests expire (VERIFIER_REQUEST_TTL); an expired one says so, whatever was tried before.
  function renderExpired() {
    verdictShow('expired', T.expired);
    body.appendChild(node('p', T.expiredHelp));
  }
  // An answer that did not verify is shown as a hint, never as the verdict: the request stays open.
  // Only our own texts (by code) reach this page; nothing a wallet wrote.
  function hint(a) {
    if (!a) { text(hintEl, ''); show(hintEl, false); return; }
    // A presentation that failed is marked red (that presentation was not confirmed), a wallet's refusal amber.
    hintEl.className = a.kind === 'wallet_error' ? 'declined' : 'bad';
    if (a.kind === 'wallet_error') text(hintEl, has(view.walletErrors, a.error) ? view.walletErrors[a.error] : view.walletErrors.other);
    else text(hintEl, T.attempt + ' ' + (a.errors || []).map(function (e) { return reasonText(e && e.code); }).join(' '));
    show(hintEl, true);
  }

  // ---- Problems of the counter API, by their type (RFC 9457), in our words -----------------------
  function Failure(message, token) { this.message = message; this.token = token; }
  function problem(r) {
    var parse = /json/.test(r.headers.get('content-type') || '') ? r.json().catch(function () { return null; }) : Promise.resolve(null);
    return parse.then(function (p) {
      var type = p && typeof p.type === 'string' ? p.type : '';
      var code = type.indexOf('urn:id-ideal:problem:') === 0 ? type.slice('urn:id-ideal:problem:'.length) : '';
      if (!has(view.problems, code)) code = r.status === 401 ? 'unauthorized' : r.status === 429 ? 'rate-limited' : '';
      if (code) return new Failure(view.problems[code].text, view.problems[code].token);
      return new Failure(T.generic.replace('{status}', String(r.status)), false);
    });
  }
  function fail(e) {
    clearInterval(timer);
    current = null;
    dcReset();
    var f = e instanceof Failure ? e : new Failure(T.network, false);
    text(errorEl, f.message);
    show(requestEl, false);
    if (f.token) {
      sessionStorage.removeItem('counter-token');
      tokenInput.setAttribute('aria-invalid', 'true');
      tokenInput.setAttribute('aria-describedby', 'error');
      tokenInput.focus();
    }
  }
  function clearProblem() {
    text(errorEl, '');
    tokenInput.removeAttribute('aria-invalid');
    tokenInput.removeAttribute('aria-describedby');
  }
  function api(path, init) {
    init = init || {};
    init.headers = Object.assign({ authorization: 'Bearer ' + tokenInput.value }, init.headers || {});
    return fetch('/api/verifiers/' + encodeURIComponent(slug) + path, init);
  }
  function ok(r) { return r.ok ? Promise.resolve(r) : problem(r).then(function (f) { throw f; }); }

  var polling = false;
  function poll(id) {
    if (polling || current !== id) return;
    polling = true;
    api('/requests/' + id).then(function (r) {
      // A key that no longer works or a request that is gone ends the wait; anything else is retried.
      if (!r.ok && [401, 403, 404].indexOf(r.status) < 0) { text(stateEl, T.retrying); return null; }
      return ok(r).then(function (x) { return x.json(); });
    }).then(function (s) {
      if (!s || current !== id) return;
      // A rejected answer that is not final (an answer that failed) stays a hint: the request is still open.
      if (s.status === 'verified') renderOk(s.result || {});
      else if (s.status === 'rejected' && s.final !== false) renderBad(s.result || {});
      else if (s.status === 'expired') renderExpired();
      else { text(stateEl, T.waiting); hint(s.last_attempt); }
    }, function (e) {
      if (current !== id) return;
      if (e instanceof Failure) fail(e); else text(stateEl, T.retrying);
    }).catch(function () {}).then(function () { polling = false; });
  }

  // ---- With a wallet on this device: the Digital Credentials API ---------------------------------
  function dcReset() { dcReq = null; show(dcRow, false); text(dcMsg, ''); }
  // A second request of the same template for the DC API, made beside the QR code's, so that the
  // click calls navigator.credentials.get at once (the browser wants it within the click).
  function dcPrepare(forId, template) {
    dcReset();
    if (!dcAvailable) return;
    api('/dc-api/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ template: template }) })
      .then(ok)
      .then(function (r) { return r.json(); })
      .then(function (x) {
        if (current !== forId || !x || typeof x.request_id !== 'string' || !isObject(x.data)) return;
        dcReq = x;
        show(dcRow, true);
      })
      .catch(function () {});  // the QR code stays; no button
  }
  function dcPoll(id) {
    clearInterval(timer);
    current = id;
    timer = setInterval(function () { poll(id); }, 1000);
    poll(id);
  }
  var dcButton = document.getElementById('dcapi');
  dcButton.addEventListener('click', function () {
    var req = dcReq;
    var qrId = current;
    if (!req || !qrId || dcButton.disabled) return;
    // One call at a time: the browser allows one pending navigator.credentials.get.
    dcButton.disabled = true;
    text(dcMsg, T.dcWaiting);
    var asked;
    try {
      asked = navigator.credentials.get({ mediation: 'required', digital: { requests: [{ protocol: req.protocol, data: req.data }] } });
    } catch (e) {
      asked = Promise.reject(e);
    }
    Promise.resolve(asked).then(function (cred) {
      if (!cred || cred.protocol !== req.protocol || !isObject(cred.data)) throw new Failure(T.dcUnavailable, false);
      return api('/requests/' + req.request_id + '/dc-api-response', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ protocol: cred.protocol, data: cred.data }) })
        .then(ok)
        .then(function (r) { return r.json(); });
    }).then(function (o) {
      dcButton.disabled = false;
      if (current !== qrId) return;
      text(dcMsg, '');
      if (o && o.status === 'verified') { dcPoll(req.request_id); return; }
      // Not confirmed: a hint as for the QR path; the QR code and the button stay.
      hint({ kind: 'presentation', errors: (o && o.errors) || [] });
    }, function (e) {
      dcButton.disabled = false;
      if (current !== qrId) return;
      if (e instanceof Failure && e.token) { fail(e); return; }
      var name = e && typeof e.name === 'string' ? e.name : '';
      text(dcMsg, e instanceof Failure ? e.message : name === 'NotAllowedError' || name === 'AbortError' ? T.dcCancelled : T.dcUnavailable);
    });
  });

  document.getElementById('close').addEventListener('click', function () {
    body.replaceChildren();
    show(verdict, false);
    document.getElementById('template').focus();
  });
  document.getElementById('start').addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearInterval(timer);
    current = null;
    clearProblem();
    hint(null);
    dcReset();
    body.replaceChildren();
    show(verdict, false);
    show(requestEl, false);
    var c;
    var template = document.getElementById('template').value;
    api('/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ template: template }) })
      .then(ok)
      .then(function (r) { return r.json(); })
      .then(function (created) {
        c = created;
        sessionStorage.setItem('counter-token', tokenInput.value);
        return api('/requests/' + c.request_id + '/qr.svg').then(ok);
      })
      .then(function (r) {
        // Only an SVG becomes the image: a problem answer never turns into a broken picture.
        if (!/^image\\/svg\\+xml/.test(r.headers.get('content-type') || '')) throw new Failure(T.generic.replace('{status}', String(r.status)), false);
        return r.blob();
      })
      .then(function (b) {
        if (qrUrl) URL.revokeObjectURL(qrUrl);
        qrUrl = URL.createObjectURL(b);
        qr.src = qrUrl;
        document.getElementById('link').href = c.authorization_request;
        document.getElementById('weblink').href = main.dataset.wallet + '/?request=' + encodeURIComponent(c.authorization_request);
        text(stateEl, T.waiting);
        show(requestEl, true);
        current = c.request_id;
        var id = c.request_id;
        timer = setInterval(function () { poll(id); }, 1000);
        dcPrepare(id, template);
      })
      .catch(fail);
  });
})();
`;
