// leakhound demo: an emulation of the X (Twitter) website tag's public wire format, written for the
// demo. Not X's code. GET https://analytics.twitter.com/i/adsct with tw_document_href (page URL)
// and events, a JSON array of [event, params] pairs inside a query parameter.
(function () {
  'use strict';
  var txn = null;
  function uuid() {
    return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, function (c) {
      var r = Math.floor(Math.random() * 16);
      return (c === 'x' ? r : (r & 3) | 8).toString(16);
    });
  }
  function send(events) {
    var p = [
      ['bci', '4'], ['dv', Intl.DateTimeFormat().resolvedOptions().timeZone || ''], ['eci', '3'],
      ['event_id', uuid()], ['events', JSON.stringify(events)], ['integration', 'advertiser'],
      ['p_id', 'Twitter'], ['p_user_id', '0'], ['pl_id', uuid()],
      ['tw_document_href', location.href], ['tw_iframe_status', window.top !== window ? '1' : '0'],
      ['txn_id', txn || ''], ['type', 'javascript'], ['version', '2.3.30']
    ];
    var qs = p.map(function (kv) { return encodeURIComponent(kv[0]) + '=' + encodeURIComponent(kv[1]); }).join('&');
    new Image().src = 'https://analytics.twitter.com/i/adsct?' + qs;
  }
  function command(cmd, a, b) {
    if (cmd === 'config') { txn = a; send([['pageview', {}]]); }
    else if (cmd === 'event') send([[a, b || {}]]);
  }
  var queued = (window.twq && window.twq.queue) || [];
  window.twq = function () { command.apply(null, arguments); };
  window.twq.exe = true;
  queued.forEach(function (args) { command.apply(null, args); });
})();
