import { z } from 'zod';
import { CLAIM_SCHEMAS, claimDisplay } from '../credential-configurations.ts';
import type { Office } from '../deps.ts';

/**
 * The issuer desk (German default, ?lang=en): a clerk fills in the claims of a document, the page
 * creates the offer through the admin API (token typed in, kept in this tab only) and shows the QR
 * code, the code for the citizen, and a same-device link to the web wallet. Script from this origin
 * only; all dynamic text via textContent.
 */
const T = {
  de: { title: 'Nachweis ausstellen', token: 'Zugangsschlüssel des Amts', type: 'Welcher Nachweis?', manual: 'Erst nach Freigabe ausstellen', create: 'Angebot erstellen', scan: 'Mit der Wallet scannen:', code: 'Code für die Bürgerin / den Bürger', web: 'In der Web-Wallet öffnen (gleiches Gerät)', open: 'In der Wallet öffnen', yes: 'ja', switchTo: 'English', href: '?lang=en' },
  en: { title: 'Issue a credential', token: 'Office access key', type: 'Which credential?', manual: 'Issue only after approval', create: 'Create offer', scan: 'Scan with the wallet:', code: 'Code for the citizen', web: 'Open in the web wallet (same device)', open: 'Open in wallet', yes: 'yes', switchTo: 'Deutsch', href: '?lang=de' },
};

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const DATE_CLAIMS = new Set(['geburtsdatum', 'gueltig_bis']);

function fields(schema: z.ZodObject, prefix: string[], lang: 'de' | 'en', idBase: string): string {
  return Object.entries(schema.shape as Record<string, z.ZodType>)
    .map(([key, type]) => {
      const path = [...prefix, key];
      const id = `${idBase}-${path.join('-')}`;
      const label = esc(claimDisplay(path)?.[lang] ?? key);
      const name = esc(path.join('.'));
      if (type instanceof z.ZodObject) return `<fieldset><legend>${label}</legend>${fields(type, path, lang, idBase)}</fieldset>`;
      if (type instanceof z.ZodBoolean) return `<label for="${id}"><input id="${id}" type="checkbox" data-claim="${name}" data-kind="boolean"> ${label}</label>`;
      if (type instanceof z.ZodEnum) return `<label for="${id}">${label}</label><select id="${id}" data-claim="${name}">${(type.options as string[]).map((o) => `<option>${esc(o)}</option>`).join('')}</select>`;
      return `<label for="${id}">${label}</label><input id="${id}" type="${DATE_CLAIMS.has(key) ? 'date' : 'text'}" data-claim="${name}" required>`;
    })
    .join('\n');
}

export function deskPage(office: Office, lang: 'de' | 'en', walletUrl: string): string {
  const t = T[lang];
  const confs = [...office.configurations.values()];
  const sets = confs
    .map((c, i) => `<fieldset class="conf" data-config="${esc(c.id)}"${i === 0 ? '' : ' hidden disabled'}><legend>${esc(c.name[lang])} (${esc(c.format)})</legend>${fields(CLAIM_SCHEMAS[c.kind], [], lang, c.id)}</fieldset>`)
    .join('\n');
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t.title)} – ${esc(office.name[lang])}</title><link rel="stylesheet" href="/static/desk.css"></head>
<body>
<header><h1>${esc(t.title)}</h1><p>${esc(office.name[lang])}</p><a href="${t.href}" lang="${t.href.slice(-2)}">${esc(t.switchTo)}</a></header>
<main id="desk" data-slug="${esc(office.slug)}" data-wallet="${esc(walletUrl)}" data-yes="${esc(t.yes)}">
<form id="offer">
<label for="token">${esc(t.token)}</label><input id="token" type="password" autocomplete="off" required>
<label for="configuration">${esc(t.type)}</label>
<select id="configuration">${confs.map((c) => `<option value="${esc(c.id)}">${esc(c.name[lang])} (${esc(c.format)})</option>`).join('')}</select>
${sets}
<label for="manual"><input id="manual" type="checkbox"> ${esc(t.manual)}</label>
<button type="submit">${esc(t.create)}</button>
</form>
<section id="result" hidden aria-live="polite">
<p>${esc(t.scan)}</p><img id="qr" alt="QR-Code" width="280" height="280">
<p>${esc(t.code)}: <strong id="txcode"></strong></p>
<p><a id="link" href="#">${esc(t.open)}</a> · <a id="weblink" href="#">${esc(t.web)}</a></p>
</section>
<p id="error" role="alert"></p>
</main>
<script src="/static/desk.js" defer></script>
</body></html>`;
}

export const DESK_CSS = `
body{font-family:system-ui,sans-serif;margin:0;color:#111;background:#fff}
header{background:#004f9f;color:#fff;padding:1rem 1.5rem}header a{color:#fff}
main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}
label{display:block;margin-top:.75rem;font-weight:600}
input,select,button{font-size:1rem;padding:.4rem;margin-top:.25rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box}
fieldset{margin-top:1rem;border:1px solid #888;border-radius:.4rem}
button{background:#004f9f;color:#fff;border:0;border-radius:.25rem;margin-top:1rem;padding:.5rem 1rem;cursor:pointer}
button:focus,a:focus,input:focus,select:focus{outline:3px solid #b35c00;outline-offset:2px}
#error{color:#a11;font-weight:600}
`;

export const DESK_JS = `
'use strict';
(function () {
  var main = document.getElementById('desk');
  var token = document.getElementById('token');
  token.value = sessionStorage.getItem('desk-token') || '';
  var select = document.getElementById('configuration');
  function active() { return document.querySelector('fieldset.conf[data-config="' + select.value + '"]'); }
  select.addEventListener('change', function () {
    document.querySelectorAll('fieldset.conf').forEach(function (f) { var on = f.dataset.config === select.value; f.hidden = !on; f.disabled = !on; });
  });
  function set(obj, path, value) {
    var parts = path.split('.'); var o = obj;
    for (var i = 0; i < parts.length - 1; i++) { o[parts[i]] = o[parts[i]] || {}; o = o[parts[i]]; }
    o[parts[parts.length - 1]] = value;
  }
  document.getElementById('offer').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem('desk-token', token.value);
    var claims = {};
    active().querySelectorAll('[data-claim]').forEach(function (el) {
      set(claims, el.dataset.claim, el.dataset.kind === 'boolean' ? el.checked : el.value);
    });
    var body = { credential_configuration_id: select.value, claims: claims };
    if (document.getElementById('manual').checked) body.approval = 'manual';
    var base = '/api/offices/' + encodeURIComponent(main.dataset.slug) + '/offers';
    var auth = { authorization: 'Bearer ' + token.value };
    document.getElementById('error').textContent = '';
    fetch(base, { method: 'POST', headers: Object.assign({ 'content-type': 'application/json' }, auth), body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.detail || j.title || String(r.status)); return j; }); })
      .then(function (o) {
        document.getElementById('txcode').textContent = o.tx_code;
        document.getElementById('link').href = o.credential_offer;
        document.getElementById('weblink').href = main.dataset.wallet + '/?offer=' + encodeURIComponent(o.credential_offer);
        return fetch(base + '/' + o.offer_id + '/qr.svg', { headers: auth }).then(function (r) { return r.blob(); }).then(function (b) {
          document.getElementById('qr').src = URL.createObjectURL(b);
          document.getElementById('result').hidden = false;
        });
      })
      .catch(function (e) { document.getElementById('error').textContent = e.message; });
  });
})();
`;
