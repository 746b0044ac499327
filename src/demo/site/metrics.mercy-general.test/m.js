// Mercy General's own analytics (first party, same registrable domain as the site). It receives
// page URLs, titles and search terms: none of that is a leak to a third party.
(function () {
  'use strict';
  function send(pairs) {
    var qs = pairs.map(function (kv) { return encodeURIComponent(kv[0]) + '=' + encodeURIComponent(kv[1]); }).join('&');
    new Image().src = 'http://metrics.mercy-general.test/collect?' + qs;
  }
  var base = [['u', location.href], ['t', document.title], ['r', document.referrer]];
  send([['e', 'pageview']].concat(base));
  function handle(item) { send([['e', item[0]], ['v', String(item[1])]].concat(base)); }
  var queued = window._mm || [];
  window._mm = { push: handle };
  queued.forEach(handle);
})();
