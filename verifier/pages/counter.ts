import { CLAIM_LABELS } from '../../core/demo/leipzig.ts';
import { TEMPLATES } from '../templates.ts';
import type { RelyingParty } from '../deps.ts';

/**
 * The counter page (German by default, English with ?lang=en): a clerk picks what to check, shows
 * the QR code or the same-device link, and the verdict appears by itself. The page talks to the
 * counter API with the bearer token the clerk enters (kept in this tab's sessionStorage only).
 * All dynamic text is set with textContent in counter.js; nothing from a response is parsed as HTML.
 */
const T = {
  de: {
    lang: 'de',
    title: 'Nachweise prüfen',
    token: 'Zugangsschlüssel der Theke',
    choose: 'Was soll geprüft werden?',
    start: 'Prüfung starten',
    scan: 'Bitte mit der Wallet scannen oder auf diesem Gerät öffnen:',
    open: 'In der Wallet öffnen',
    openWeb: 'In der Web-Wallet öffnen (gleiches Gerät)',
    waiting: 'Warte auf die Antwort der Wallet …',
    ok: 'Geprüft: gültig',
    bad: 'Nicht bestätigt',
    expired: 'Die Anfrage ist abgelaufen.',
    attempt: 'Eine Vorlage wurde nicht bestätigt (noch kein Ergebnis, die Anfrage ist weiter offen):',
    issuedBy: 'Ausgestellt von',
    switchTo: 'English',
    switchHref: '?lang=en',
  },
  en: {
    lang: 'en',
    title: 'Check credentials',
    token: 'Counter access key',
    choose: 'What do you want to check?',
    start: 'Start check',
    scan: 'Scan with the wallet or open on this device:',
    open: 'Open in wallet',
    openWeb: 'Open in the web wallet (same device)',
    waiting: 'Waiting for the wallet’s answer …',
    ok: 'Checked: valid',
    bad: 'Not confirmed',
    expired: 'The request has expired.',
    attempt: 'A presentation was not confirmed (no result yet, the request is still open):',
    issuedBy: 'Issued by',
    switchTo: 'Deutsch',
    switchHref: '?lang=de',
  },
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function counterPage(rp: RelyingParty, lang: 'de' | 'en', walletUrl: string): string {
  const t = T[lang];
  const options = Object.entries(TEMPLATES)
    .map(([id, x]) => `<option value="${esc(id)}">${esc(x.name[lang])}</option>`)
    .join('');
  return `<!doctype html>
<html lang="${t.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t.title)} – ${esc(rp.name[lang])}</title>
<link rel="stylesheet" href="/static/counter.css">
</head>
<body>
<header><h1>${esc(t.title)}</h1><p>${esc(rp.name[lang])}</p><a href="${t.switchHref}" lang="${t.switchHref.slice(-2)}">${esc(t.switchTo)}</a></header>
<main id="counter" data-slug="${esc(rp.slug)}" data-lang="${t.lang}" data-wallet="${esc(walletUrl)}"
  data-waiting="${esc(t.waiting)}" data-ok="${esc(t.ok)}" data-bad="${esc(t.bad)}" data-expired="${esc(t.expired)}" data-attempt="${esc(t.attempt)}" data-issued-by="${esc(t.issuedBy)}">
<form id="start">
  <label for="token">${esc(t.token)}</label>
  <input id="token" name="token" type="password" autocomplete="off" required>
  <label for="template">${esc(t.choose)}</label>
  <select id="template" name="template">${options}</select>
  <button type="submit">${esc(t.start)}</button>
</form>
<section id="request" hidden aria-live="polite">
  <p>${esc(t.scan)}</p>
  <img id="qr" alt="QR-Code" width="280" height="280">
  <p><a id="link" href="#">${esc(t.open)}</a> · <a id="weblink" href="#">${esc(t.openWeb)}</a></p>
  <p id="state" role="status"></p>
  <p id="hint" role="status" hidden></p>
</section>
<section id="verdict" hidden aria-live="assertive" tabindex="-1">
  <h2 id="verdict-title"></h2>
  <div id="verdict-body"></div>
</section>
</main>
<script type="application/json" id="labels">${JSON.stringify(Object.fromEntries(Object.entries(CLAIM_LABELS).map(([k, v]) => [k, v[lang]]))).replace(/</g, '\\u003c')}</script>
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
button:focus,a:focus,input:focus,select:focus{outline:3px solid #f5a300;outline-offset:2px}
#hint{background:#fff4d6;border:2px solid #a66b00;padding:.5rem;border-radius:.25rem}
#verdict{padding:1rem;border-radius:.5rem;margin-top:1rem}
#verdict.ok{background:#e3f4e1;border:3px solid #1b6e1b}
#verdict.bad{background:#fbe4e4;border:3px solid #a11}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{font-weight:600}
`;

export const COUNTER_JS = `
'use strict';
(function () {
  var main = document.getElementById('counter');
  var slug = main.dataset.slug;
  var labels = JSON.parse(document.getElementById('labels').textContent || '{}');
  var tokenInput = document.getElementById('token');
  tokenInput.value = sessionStorage.getItem('counter-token') || '';
  var timer = null;
  function api(path, init) {
    init = init || {};
    init.headers = Object.assign({ authorization: 'Bearer ' + tokenInput.value }, init.headers || {});
    return fetch('/api/verifiers/' + encodeURIComponent(slug) + path, init);
  }
  function show(el, on) { el.hidden = !on; }
  function text(el, s) { el.textContent = s; }
  function render(result, ok) {
    var v = document.getElementById('verdict');
    var body = document.getElementById('verdict-body');
    body.replaceChildren();
    v.className = ok ? 'ok' : 'bad';
    text(document.getElementById('verdict-title'), ok ? main.dataset.ok : main.dataset.bad);
    if (ok) {
      result.credentials.forEach(function (c) {
        var p = document.createElement('p');
        text(p, main.dataset.issuedBy + ': ' + (c.issuer_name_i18n ? c.issuer_name_i18n[main.dataset.lang] : c.issuer));
        body.appendChild(p);
        var dl = document.createElement('dl');
        Object.keys(c.claims).forEach(function (k) {
          var dt = document.createElement('dt'); text(dt, labels[k] || k);
          var dd = document.createElement('dd');
          var val = c.claims[k];
          text(dd, typeof val === 'object' ? Object.values(val).join(' ') : String(val));
          dl.appendChild(dt); dl.appendChild(dd);
        });
        body.appendChild(dl);
      });
    } else {
      var ul = document.createElement('ul');
      result.errors.forEach(function (e) {
        var li = document.createElement('li');
        var parts = e.message.split(' / ');
        text(li, main.dataset.lang === 'en' && parts[1] ? parts[1] : parts[0]);
        ul.appendChild(li);
      });
      body.appendChild(ul);
    }
    show(document.getElementById('request'), false);
    show(v, true);
    v.focus();
  }
  function local(message) {
    var parts = String(message).split(' / ');
    return main.dataset.lang === 'en' && parts[1] ? parts[1] : parts[0];
  }
  // An answer that did not verify is shown as a hint, never as the verdict: the request stays open.
  // Only our own texts (by code) reach this page; nothing a wallet wrote.
  function hint(a) {
    var el = document.getElementById('hint');
    if (!a) { show(el, false); return; }
    text(el, a.kind === 'wallet_error' ? local(a.message) : main.dataset.attempt + ' ' + a.errors.map(function (e) { return local(e.message); }).join(' '));
    show(el, true);
  }
  function poll(id) {
    api('/requests/' + id).then(function (r) { return r.json(); }).then(function (s) {
      // A rejected answer that is not final (an answer that failed) stays a hint: the request is still open.
      if (s.status === 'verified' || (s.status === 'rejected' && s.final !== false)) { clearInterval(timer); hint(null); render(s.result, s.status === 'verified'); }
      else if (s.status === 'expired') { clearInterval(timer); text(document.getElementById('state'), main.dataset.expired); hint(s.last_attempt); }
      else hint(s.last_attempt);
    }).catch(function () {});
  }
  document.getElementById('start').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem('counter-token', tokenInput.value);
    clearInterval(timer);
    hint(null);
    show(document.getElementById('verdict'), false);
    api('/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ template: document.getElementById('template').value }) })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (c) {
        document.getElementById('link').href = c.authorization_request;
        document.getElementById('weblink').href = main.dataset.wallet + '/?request=' + encodeURIComponent(c.authorization_request);
        return api('/requests/' + c.request_id + '/qr.svg').then(function (r) { return r.blob(); }).then(function (b) {
          document.getElementById('qr').src = URL.createObjectURL(b);
          text(document.getElementById('state'), main.dataset.waiting);
          show(document.getElementById('request'), true);
          timer = setInterval(function () { poll(c.request_id); }, 1000);
        });
      })
      .catch(function (e) { text(document.getElementById('state'), 'Fehler / Error: ' + e.message); show(document.getElementById('request'), true); });
  });
})();
`;
