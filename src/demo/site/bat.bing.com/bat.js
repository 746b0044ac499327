// leakhound demo: an emulation of Microsoft Advertising UET's public wire format, written for the
// demo. Not Microsoft's code. GET https://bat.bing.com/action/0 with p (page URL), r (referrer),
// tl (title), kw (the page's meta keywords), and for custom events ec/ea/el.
(function () {
  'use strict';
  var settings = window.uetSettings || {};
  function rid() { return Math.random().toString(16).slice(2, 10) + Math.random().toString(16).slice(2, 10); }
  var mid = rid(), sid = rid().slice(0, 8), vid = rid();
  document.cookie = '_uetsid=' + sid + '; path=/; max-age=86400; SameSite=Lax';
  document.cookie = '_uetvid=' + vid + '; path=/; max-age=33696000; SameSite=Lax';

  function keywords() {
    var m = document.querySelector('meta[name="keywords"]');
    return m ? m.getAttribute('content') || '' : '';
  }

  function send(evt, extra) {
    var p = [
      ['ti', settings.ti || ''], ['tm', 'al001'], ['Ver', '2'], ['mid', mid], ['sid', sid],
      ['vid', vid], ['vids', '1'], ['msclkid', 'N'], ['evt', evt]
    ].concat(extra || []).concat([
      ['sv', '1'], ['p', location.href], ['r', document.referrer], ['lt', String(Date.now())],
      ['pi', '0'], ['lg', navigator.language || 'en-US'], ['sw', String(screen.width)],
      ['sh', String(screen.height)], ['sc', '24'], ['tl', document.title], ['kw', keywords()],
      ['nwd', '1'], ['rn', String(Math.floor(Math.random() * 1e6))]
    ]);
    var qs = p.map(function (kv) { return encodeURIComponent(kv[0]) + '=' + encodeURIComponent(kv[1]); }).join('&');
    new Image().src = 'https://bat.bing.com/action/0?' + qs;
  }

  function handle(args) {
    if (args[0] === 'pageLoad') {
      send('pageLoad');
    } else if (args[0] === 'event') {
      var o = args[2] || {};
      var extra = [['ea', args[1]]];
      if (o.event_category) extra.push(['ec', o.event_category]);
      if (o.event_label) extra.push(['el', o.event_label]);
      if (o.event_value != null) extra.push(['ev', String(o.event_value)]);
      send('custom', extra);
    }
  }

  // uetq is a flat array of pushed arguments: 'pageLoad', or 'event', name, params.
  var queued = window.uetq || [];
  var items = [];
  for (var i = 0; i < queued.length; i++) {
    if (queued[i] === 'event') { items.push(['event', queued[i + 1], queued[i + 2]]); i += 2; }
    else items.push([queued[i]]);
  }
  window.uetq = {
    push: function () { handle([].slice.call(arguments)); }
  };
  items.forEach(handle);
})();
