import type { Office } from '../deps.ts';
import { claimFields, esc } from './desk-fields.ts';
import { DESK_TEXTS, type DeskLang } from './desk-texts.ts';
export { DESK_CSS } from './desk-style.ts';
export { DESK_JS } from './desk-script.ts';

/**
 * The clerk's desk (German default, ?lang=en), what a clerk uses all day: fill in a document from
 * its type's definition, create the offer through the admin API (access key typed in, kept in this
 * tab only), hand over QR code and code, watch the offer's state (waiting, awaiting approval,
 * collected, locked, expired), approve a deferred one, suspend, reinstate or revoke what was
 * issued (all copies, now or later by the case number from the file), and clear the form for
 * the next citizen. Script and style from this origin
 * only; all dynamic text via textContent; the page's texts travel as a JSON block, not as code.
 */
export function deskPage(office: Office, lang: DeskLang, walletUrl: string): string {
  const t = DESK_TEXTS[lang];
  const confs = [...office.configurations.values()];
  const label = (c: (typeof confs)[number]) => `${c.name[lang]} (${c.format})`;
  const sets = confs
    .map((c, i) => `<fieldset class="conf" data-config="${esc(c.id)}" data-format="${esc(c.format)}"${i === 0 ? '' : ' hidden disabled'}><legend>${esc(label(c))}</legend>\n${claimFields(c.type, lang, t, c.id)}\n</fieldset>`)
    .join('\n');
  const texts = JSON.stringify(t).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t.title)} – ${esc(office.name[lang])}</title><link rel="stylesheet" href="/static/desk.css"></head>
<body>
<header><h1>${esc(t.title)}</h1><p>${esc(office.name[lang])}</p><a href="${t.switchHref}" lang="${t.switchHref.slice(-2)}">${esc(t.switchTo)}</a></header>
<main id="desk" data-slug="${esc(office.slug)}" data-wallet="${esc(walletUrl)}">
<form id="offer" novalidate>
<label for="token">${esc(t.token)}</label><input id="token" type="password" autocomplete="off" required aria-required="true">
<label for="configuration">${esc(t.type)}</label>
<select id="configuration">${confs.map((c) => `<option value="${esc(c.id)}">${esc(label(c))}</option>`).join('')}</select>
${sets}
<div class="check"><input id="manual" type="checkbox"> <label for="manual">${esc(t.manual)}</label></div>
<button id="create" type="submit">${esc(t.create)}</button>
</form>
<p id="error" role="alert"></p>
<section id="result" hidden aria-labelledby="result-title">
<h2 id="result-title" tabindex="-1">${esc(t.result)}</h2>
<div id="handover">
<p>${esc(t.scan)}</p><img id="qr" alt="${esc(t.qrAlt)}" width="280" height="280">
<p>${esc(t.code)}: <strong id="txcode"></strong></p>
<p><a id="link" href="#">${esc(t.open)}</a> · <a id="weblink" href="#">${esc(t.web)}</a></p>
</div>
<p>${esc(t.caseNumber)}: <code id="case-id"></code></p>
<p id="state" role="status" aria-live="polite"></p>
<p><button id="approve" type="button" hidden>${esc(t.approve)}</button></p>
<div id="issued" hidden>
<p id="credential-status" tabindex="-1"></p>
<p class="actions"><button id="suspend" type="button">${esc(t.suspend)}</button> <button id="reinstate" type="button">${esc(t.reinstate)}</button> <button id="revoke" type="button" class="danger">${esc(t.revoke)}</button></p>
</div>
<p><button id="next" type="button" class="secondary">${esc(t.next)}</button></p>
</section>
<form id="lookup" novalidate aria-labelledby="case-title">
<h2 id="case-title">${esc(t.caseTitle)}</h2>
<label for="case">${esc(t.caseId)}</label><input id="case" type="text" autocomplete="off" spellcheck="false" aria-describedby="case-hint" data-label="${esc(t.caseId)}">
<small id="case-hint" class="hint">${esc(t.caseHint)}</small>
<button id="open-case" type="submit" class="secondary">${esc(t.caseOpen)}</button>
</form>
<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
<h2 id="confirm-title">${esc(t.confirmTitle)}</h2>
<p id="confirm-text">${esc(t.confirmText)}</p>
<p><button id="confirm-yes" type="button" class="danger">${esc(t.confirmYes)}</button> <button id="confirm-no" type="button" class="secondary">${esc(t.cancel)}</button></p>
</dialog>
</main>
<script type="application/json" id="desk-texts">${texts}</script>
<script src="/static/desk.js" defer></script>
</body></html>`;
}
