// leakhound demo: an emulation of TikTok Pixel's public wire format, written for the demo.
// Not TikTok's code. POSTs JSON to https://analytics.tiktok.com/api/v2/pixel with
// context.page.url / context.page.referrer, and after identify() the SHA-256 of the normalised
// email and phone in context.user.
(function () {
  'use strict';
  // SHA-256 (FIPS 180-4) in plain JS: pages served over http have no crypto.subtle.
  // Round constants are derived from the primes as the standard defines them.
  function sha256hex(text) {
    var K = [], H = [], n = 0, c = 2;
    function frac(x) { return ((x - Math.floor(x)) * 4294967296) >>> 0; }
    while (n < 64) {
      var prime = true;
      for (var d = 2; d * d <= c; d++) if (c % d === 0) { prime = false; break; }
      if (prime) { if (n < 8) H[n] = frac(Math.sqrt(c)); K[n] = frac(Math.cbrt(c)); n++; }
      c++;
    }
    var data = new TextEncoder().encode(text);
    var len = ((data.length + 9 + 63) >> 6) << 6;
    var m = new Uint8Array(len);
    m.set(data);
    m[data.length] = 0x80;
    var bits = data.length * 8;
    m[len - 4] = (bits >>> 24) & 255; m[len - 3] = (bits >>> 16) & 255;
    m[len - 2] = (bits >>> 8) & 255; m[len - 1] = bits & 255;
    var w = new Array(64);
    function rotr(x, r) { return (x >>> r) | (x << (32 - r)); }
    for (var off = 0; off < len; off += 64) {
      for (var i = 0; i < 16; i++) {
        w[i] = (m[off + 4 * i] << 24) | (m[off + 4 * i + 1] << 16) | (m[off + 4 * i + 2] << 8) | m[off + 4 * i + 3];
      }
      for (i = 16; i < 64; i++) {
        var s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      var a = H[0], b = H[1], cc = H[2], dd = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (i = 0; i < 64; i++) {
        var t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc))) | 0;
        h = g; g = f; f = e; e = (dd + t1) | 0; dd = cc; cc = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + cc) | 0; H[3] = (H[3] + dd) | 0;
      H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
    }
    return H.map(function (x) { return ('00000000' + (x >>> 0).toString(16)).slice(-8); }).join('');
  }

  var settings = window.ttqSettings || {};
  var user = {};
  var session = 'sess-' + Date.now() + '-' + Math.floor(Math.random() * 1e9);

  function normalisePhone(p) {
    var digits = String(p).replace(/\D/g, '');
    if (digits.length === 10) digits = '1' + digits;
    return '+' + digits;
  }

  function send(event, properties) {
    var body = {
      event: event,
      message_id: 'messageId-' + Date.now() + '-' + Math.floor(Math.random() * 1e9),
      event_id: '',
      is_onsite: false,
      timestamp: new Date().toISOString(),
      context: {
        ad: {},
        device: { platform: 'pc' },
        library: { name: 'pixel.js', version: '2.2.1' },
        page: { url: location.href, referrer: document.referrer },
        pixel: { code: settings.pixel || '' },
        session_id: session,
        user: JSON.parse(JSON.stringify(user))
      },
      properties: properties || {}
    };
    navigator.sendBeacon('https://analytics.tiktok.com/api/v2/pixel', JSON.stringify(body));
  }

  var api = {
    page: function () { send('Pageview', {}); },
    track: function (event, props) { send(event, props); },
    identify: function (data) {
      if (data && data.email) user.email = sha256hex(String(data.email).trim().toLowerCase());
      if (data && data.phone_number) user.phone_number = sha256hex(normalisePhone(data.phone_number));
    }
  };
  var queued = (window.ttq && window.ttq.queue) || [];
  window.ttq = api;
  queued.forEach(function (args) {
    if (api[args[0]]) api[args[0]].apply(null, args.slice(1));
  });
})();
