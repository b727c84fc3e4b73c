/**
 * The desk page's script (served at /static/desk.js). Texts come from the page's JSON block
 * (issuer/pages/desk-texts.ts); API problems are shown by their `type`, never with the API's own
 * text. Claims live only in the form: they are cleared when the offer is collected and by
 * "Nächste Person / Next citizen".
 */
export const DESK_JS = `
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var main = $('desk');
  var T = JSON.parse($('desk-texts').textContent || '{}');
  var token = $('token');
  token.value = sessionStorage.getItem('desk-token') || '';
  var select = $('configuration');
  var offerId = null;
  var timer = null;
  var qrUrl = null;
  var POLL_MS = 1500;
  var FINAL = { collected: true, locked: true, expired: true };
  var JSON_HEADERS = { 'content-type': 'application/json' };

  function fill(s, v) { return String(s).replace(/\\{(\\w+)\\}/g, function (m, k) { return k in v ? String(v[k]) : m; }); }
  function confs() { return Array.prototype.slice.call(document.querySelectorAll('fieldset.conf')); }
  function active() { return confs().filter(function (f) { return f.dataset.config === select.value; })[0]; }
  function showConf() { confs().forEach(function (f) { var on = f.dataset.config === select.value; f.hidden = !on; f.disabled = !on; }); }
  select.addEventListener('change', function () { clearErrors(); showConf(); });

  // ---- messages: only our own texts, chosen by problem type (RFC 9457 "type") ----
  function say(msg) { $('error').textContent = msg; }
  function clearErrors() {
    say('');
    document.querySelectorAll('[aria-invalid]').forEach(function (el) { el.removeAttribute('aria-invalid'); });
  }
  function byPath(f, attr, path) {
    return Array.prototype.slice.call(f.querySelectorAll('[' + attr + ']')).filter(function (el) { return el.getAttribute(attr) === path; })[0];
  }
  function mark(el) {
    if (el.matches('input, select')) { el.setAttribute('aria-invalid', 'true'); el.focus(); }
  }
  function fieldText(field) {
    var f = active();
    if (!f || typeof field !== 'string' || field.indexOf('claims.') !== 0) return T.errInvalid;
    var path = field.slice('claims.'.length);
    var el = byPath(f, 'data-claim', path) || byPath(f, 'data-group', path) || byPath(f, 'data-derived', path);
    if (!el) return T.errInvalid;
    mark(el);
    return el.dataset.hint ? fill(T.errFieldHint, { label: el.dataset.label, hint: el.dataset.hint }) : fill(T.errField, { label: el.dataset.label });
  }
  function problemText(p, status, action) {
    var type = p && typeof p.type === 'string' && p.type.indexOf('urn:id-ideal:problem:') === 0 ? p.type.slice('urn:id-ideal:problem:'.length) : '';
    switch (type) {
      case 'unauthorized': return T.errToken;
      case 'insufficient-role':
      case 'out-of-scope': return action === 'status' ? T.errForbiddenStatus : T.errForbidden;
      case 'invalid-request': return fieldText(p.field);
      case 'unknown-offer': return T.errUnknownOffer;
      case 'unknown-credential-configuration': return T.errUnknownConfiguration;
      case 'unknown-office': return T.errUnknownOffice;
      case 'credential-revoked': return T.errRevoked;
      case 'status-not-supported': return T.errNotSuspendable;
      case 'offer-not-issued': return T.errNotIssued;
      case 'already-approved': return T.errAlreadyApproved;
      case 'approval-not-required': return T.errApprovalNotRequired;
      case 'not-authorized-by-registry': return T.errRegistry;
      case 'rate-limited': return T.errRateLimited;
      case 'payload-too-large': return T.errTooLarge;
    }
    if (status === 401) return T.errToken;
    if (status === 429) return T.errRateLimited;
    return fill(T.errOther, { status: status || '?' });
  }
  function failed(action) {
    return function (e) { say(e && e.network ? T.errNetwork : problemText(e && e.problem, e && e.status, action)); return e; };
  }

  // ---- the admin API of this office ----
  function api(path, init, as) {
    init = init || {};
    init.headers = Object.assign({ authorization: 'Bearer ' + token.value }, init.headers || {});
    return fetch('/api/offices/' + encodeURIComponent(main.dataset.slug) + path, init).then(function (r) {
      if (r.ok) return as === 'blob' ? r.blob() : r.json();
      return r.json().catch(function () { return null; }).then(function (p) { throw { problem: p, status: r.status }; });
    }, function () { throw { network: true }; });
  }

  // ---- the form ----
  function setPath(obj, path, value) {
    var parts = path.split('.'); var o = obj;
    for (var i = 0; i < parts.length - 1; i++) { o[parts[i]] = o[parts[i]] || {}; o = o[parts[i]]; }
    o[parts[parts.length - 1]] = value;
  }
  // Derived claims are not in the form and never sent: the issuer computes them.
  function collect(f) {
    var claims = {}; var missing = null;
    f.querySelectorAll('[data-claim]').forEach(function (el) {
      if (el.dataset.kind === 'boolean') { setPath(claims, el.dataset.claim, el.checked); return; }
      var v = el.value.trim();
      if (v === '') { if (el.required && !missing) missing = el; return; }
      setPath(claims, el.dataset.claim, v);
    });
    return { claims: claims, missing: missing };
  }
  function updateDerived(f) {
    f.querySelectorAll('p.derived').forEach(function (p) {
      var out = p.querySelector('output');
      var src = byPath(f, 'data-claim', p.dataset.from);
      var v = src ? src.value.trim() : '';
      var yes = null;
      if (v && p.dataset.rule === 'equals') yes = v.toLocaleLowerCase('de') === String(p.dataset.value).trim().toLocaleLowerCase('de');
      var m = /^(\\d{4})-(\\d{2})-(\\d{2})$/.exec(v);
      if (m && p.dataset.rule === 'age_at_least') yes = Date.now() >= Date.UTC(Number(m[1]) + Number(p.dataset.years), Number(m[2]) - 1, Number(m[3]));
      out.textContent = yes === null ? '' : fill(T.derivedResult, { value: yes ? T.yes : T.no });
    });
  }
  confs().forEach(function (f) { f.addEventListener('input', function () { updateDerived(f); }); });
  function clearClaims() {
    confs().forEach(function (f) {
      f.querySelectorAll('[data-claim]').forEach(function (el) {
        if (el.dataset.kind === 'boolean') el.checked = false;
        else if (el.tagName === 'SELECT') el.selectedIndex = 0;
        else el.value = '';
      });
      updateDerived(f);
    });
    $('manual').checked = false;
  }
  function lockForm(on) {
    select.disabled = on;
    $('manual').disabled = on;
    $('create').disabled = on;
    if (on) confs().forEach(function (f) { f.disabled = true; }); else showConf();
  }

  // ---- the offer's state, polled ----
  function dropHandover() {
    $('handover').hidden = true;
    $('txcode').textContent = '';
    $('qr').removeAttribute('src');
    if (qrUrl) { URL.revokeObjectURL(qrUrl); qrUrl = null; }
  }
  function showCopies(list) {
    if (!list || list.length === 0) { $('issued').hidden = true; return; }
    var statuses = [];
    list.forEach(function (c) { if (statuses.indexOf(c.status) < 0) statuses.push(c.status); });
    var anyRevoked = statuses.indexOf('revoked') >= 0;
    var suspendable = list.every(function (c) { return c.format !== 'jwt_vc_json'; });
    $('credential-status').textContent = fill(T.credential, {
      status: statuses.map(function (s) { return T['status_' + s] || s; }).join(' / '),
      n: list.length === 1 ? T.copies1 : fill(T.copiesN, { n: list.length }),
    });
    $('suspend').hidden = anyRevoked || !suspendable || statuses.indexOf('valid') < 0;
    $('reinstate').hidden = anyRevoked || statuses.indexOf('suspended') < 0;
    $('revoke').hidden = statuses.length === 1 && anyRevoked;
    $('issued').hidden = false;
  }
  function render(s) {
    var st = $('state');
    // Only a change is written, so the live region announces each state once.
    if (st.dataset.state !== s.state) {
      st.dataset.state = s.state;
      st.textContent = T['state_' + s.state] || '';
      if (s.state === 'collected') clearClaims();
      if (s.state !== 'waiting') dropHandover();
    }
    $('approve').hidden = s.state !== 'awaiting_approval';
    if (s.state === 'collected') showCopies(s.credentials);
  }
  function poll() {
    var id = offerId;
    if (!id) return;
    api('/offers/' + id).then(function (s) {
      if (id !== offerId) return;
      render(s);
      if (!FINAL[s.state]) timer = setTimeout(poll, POLL_MS);
    }).catch(function (e) {
      if (id !== offerId) return;
      failed('poll')(e);
      // Passing trouble (network, overload) is retried; a wrong key or a vanished offer ends the watch.
      if (e && (e.network || e.status === 429 || e.status >= 500)) timer = setTimeout(poll, POLL_MS * 2);
    });
  }

  function haveToken() {
    if (!token.value) { mark(token); say(fill(T.errMissing, { label: token.labels[0].textContent })); return false; }
    sessionStorage.setItem('desk-token', token.value);
    return true;
  }
  function showResult(id) {
    offerId = id;
    lockForm(true);
    $('case-id').textContent = id;
    $('issued').hidden = true;
    $('approve').hidden = true;
    delete $('state').dataset.state;
    $('result').hidden = false;
    $('result-title').focus();
  }

  $('offer').addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearErrors();
    if (!haveToken()) return;
    if (!active()) { say(T.errUnknownConfiguration); return; }
    var c = collect(active());
    if (c.missing) { mark(c.missing); say(fill(T.errMissing, { label: c.missing.dataset.label })); return; }
    var body = { credential_configuration_id: select.value, claims: c.claims };
    if ($('manual').checked) body.approval = 'manual';
    $('create').disabled = true;
    api('/offers', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) })
      .then(function (o) {
        $('txcode').textContent = o.tx_code;
        $('link').href = o.credential_offer;
        $('weblink').href = main.dataset.wallet + '/?offer=' + encodeURIComponent(o.credential_offer);
        $('handover').hidden = false;
        showResult(o.offer_id);
        render({ state: 'waiting' });
        timer = setTimeout(poll, POLL_MS);
        return api('/offers/' + o.offer_id + '/qr.svg', {}, 'blob').then(function (b) {
          if (offerId !== o.offer_id || $('handover').hidden) return;
          qrUrl = URL.createObjectURL(b);
          $('qr').src = qrUrl;
        });
      })
      .catch(function (e) { if (!offerId) $('create').disabled = false; failed('create')(e); });
  });

  // A case from the file (its offer id, the "Vorgangsnummer"): its state and the status actions.
  $('lookup').addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearErrors();
    if (!haveToken()) return;
    var id = $('case').value.trim().toLowerCase();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) { mark($('case')); say(T.errCase); return; }
    clearTimeout(timer);
    api('/offers/' + id).then(function (s) {
      $('case').value = '';
      clearClaims();
      dropHandover();
      showResult(id);
      render(s);
      if (!FINAL[s.state]) timer = setTimeout(poll, POLL_MS);
    }).catch(failed('open'));
  });

  $('approve').addEventListener('click', function () {
    clearErrors();
    api('/offers/' + offerId + '/approve', { method: 'POST', headers: JSON_HEADERS, body: '{}' })
      .then(function () { clearTimeout(timer); poll(); })
      .catch(failed('approve'));
  });

  function setStatus(status) {
    clearErrors();
    api('/offers/' + offerId + '/status', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ status: status }) })
      .then(function (r) { showCopies(r.credentials); $('credential-status').focus(); })
      .catch(failed('status'));
  }
  $('suspend').addEventListener('click', function () { setStatus('suspended'); });
  $('reinstate').addEventListener('click', function () { setStatus('valid'); });
  // Revocation is final (Token Status List INVALID): only after an explicit confirmation.
  $('revoke').addEventListener('click', function () { $('confirm').showModal(); $('confirm-no').focus(); });
  $('confirm-no').addEventListener('click', function () { $('confirm').close(); });
  $('confirm-yes').addEventListener('click', function () { $('confirm').close(); setStatus('revoked'); });

  $('next').addEventListener('click', function () {
    clearTimeout(timer);
    offerId = null;
    clearClaims();
    clearErrors();
    dropHandover();
    $('issued').hidden = true;
    $('approve').hidden = true;
    $('state').textContent = '';
    $('case-id').textContent = '';
    delete $('state').dataset.state;
    $('result').hidden = true;
    lockForm(false);
    var first = active() && active().querySelector('input, select');
    (first || select).focus();
  });
})();
`;
