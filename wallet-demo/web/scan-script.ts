/**
 * The web wallet's camera scanner, sent as `/static/scan.js`: the only script of the wallet's pages.
 * The pages work without it (paste the link); with a camera, a QR code of an OID4VP request fills in
 * the request form and submits it (the citizen pressed "scan": that is the act after which the wallet
 * may fetch, docs/threat-model.md), and a QR code of an offer fills in the offer form and asks for the
 * code from the office. Decoding is jsQR (served as `/static/jsqr.js`), because Chromium on desktop
 * Linux has no BarcodeDetector. Frames stay in the page; nothing is uploaded.
 */
export const SCAN_JS = `(function () {
  'use strict';
  var md = navigator.mediaDevices;
  if (!md || typeof md.getUserMedia !== 'function' || typeof window.jsQR !== 'function') return;
  var video = document.getElementById('camera');
  var status = document.getElementById('scan-status');
  if (!video || !status) return;
  var canvas = document.createElement('canvas');
  var ctx = canvas.getContext('2d', { willReadFrequently: true });
  var stream = null;
  function say(text) { status.textContent = text; }
  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.srcObject = null;
    video.hidden = true;
  }
  function found(data, button) {
    stop();
    var request = document.getElementById('request');
    var offer = document.getElementById('offer');
    if (/^openid4vp:\\/\\//.test(data) && request) {
      request.value = data;
      say(button.dataset.foundRequest);
      request.form.requestSubmit();
    } else if (/^openid-credential-offer:\\/\\//.test(data) && offer) {
      offer.value = data;
      say(button.dataset.foundOffer);
      var code = document.getElementById('tx_code');
      if (code) code.focus();
    } else {
      say(button.dataset.unknown);
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll('button[data-scan]'), function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      stop();
      say(button.dataset.starting);
      md.getUserMedia({ video: { facingMode: 'environment' }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        var played = video.play();
        if (played && played.catch) played.catch(function () {});
        say(button.dataset.looking);
        var until = Date.now() + 60000;
        (function tick() {
          if (!stream) return;
          if (video.readyState >= 2 && video.videoWidth > 0) {
            canvas.width = video.videoWidth;
            canvas.height = video.videoHeight;
            ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
            var frame = ctx.getImageData(0, 0, canvas.width, canvas.height);
            var code = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: 'attemptBoth' });
            if (code && code.data) { found(code.data, button); return; }
          }
          if (Date.now() > until) { stop(); say(button.dataset.timeout); return; }
          setTimeout(tick, 150);
        })();
      }).catch(function () { say(button.dataset.denied); });
    });
  });
})();
`;
