// leakhound demo: a session-replay recorder in the style of Hotjar, written for the demo. Not
// Hotjar's code, and not Hotjar's protocol: only the hostnames and the use of a WebSocket are
// borrowed. It opens ws://ws.hotjar.com/api/v2/client/ws (ws:// so the offline demo can answer it
// on loopback) and sends JSON text frames:
//   {"type":"page", url, title, referrer}  once the socket is open
//   {"type":"dom", text}                    the page's visible text, shortly after load
//   {"type":"input", selector, value}       a field's value after typing pauses, on change/blur
//                                           and on submit; password fields are masked
(function () {
  'use strict';
  var settings = window._hjSettings || {};
  var queue = [];
  var open = false;
  var ws;
  try {
    ws = new WebSocket('ws://ws.hotjar.com/api/v2/client/ws?site_id=' + encodeURIComponent(settings.hjid || ''));
  } catch (e) {
    return;
  }
  function send(obj) {
    var text = JSON.stringify(obj);
    if (open) ws.send(text); else queue.push(text);
  }
  ws.addEventListener('open', function () {
    open = true;
    queue.splice(0).forEach(function (t) { ws.send(t); });
  });
  send({ type: 'page', site_id: settings.hjid, url: location.href, title: document.title, referrer: document.referrer });

  function snapshot() {
    var text = (document.body && document.body.innerText || '').replace(/\s+/g, ' ').trim();
    send({ type: 'dom', text: text.slice(0, 5000) });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { setTimeout(snapshot, 200); });
  } else {
    setTimeout(snapshot, 200);
  }

  var last = {};
  var timers = {};
  function selector(el) { return el.id ? '#' + el.id : el.name ? '[name=' + el.name + ']' : el.tagName.toLowerCase(); }
  function record(el) {
    if (!el || !('value' in el) || el.type === 'hidden' || el.type === 'submit') return;
    var sel = selector(el);
    var value = el.type === 'password' ? el.value.replace(/./g, '*') : el.value;
    if (!value || last[sel] === value) return;
    last[sel] = value;
    send({ type: 'input', selector: sel, value: value });
  }
  document.addEventListener('input', function (e) {
    var el = e.target;
    var sel = selector(el);
    clearTimeout(timers[sel]);
    timers[sel] = setTimeout(function () { record(el); }, 400);
  }, true);
  document.addEventListener('change', function (e) { record(e.target); }, true);
  document.addEventListener('focusout', function (e) { record(e.target); }, true);
  document.addEventListener('submit', function (e) {
    Array.prototype.forEach.call(e.target.elements || [], record);
  }, true);
})();
