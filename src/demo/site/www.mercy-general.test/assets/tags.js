// Mercy General tag container.
//
// Stands in for the tag manager a hospital marketing team would use: each page lists the tags it
// wants in this script's data-tags attribute, and each tag is installed the way its vendor's
// instructions say (a global command queue, then the vendor's script from the vendor's own host).
// The vendor scripts are leakhound's own emulations of public wire formats, not vendor code.
(function () {
  var me = document.currentScript;
  var wanted = ((me && me.getAttribute('data-tags')) || '').split(/\s+/);
  var user = window.mercyUser || null;

  function load(src) {
    var s = document.createElement('script');
    s.async = true;
    s.src = src;
    (document.head || document.documentElement).appendChild(s);
  }

  var install = {
    // The hospital's own analytics, on its own registrable domain: first party.
    metrics: function () {
      window._mm = window._mm || [];
      load('http://metrics.mercy-general.test/m.js');
    },
    ga4: function () {
      window.dataLayer = window.dataLayer || [];
      window.gtag = function () { window.dataLayer.push(arguments); };
      window.gtag('js', new Date());
      window.gtag('config', 'G-MERCY24DEMO');
      load('https://www.googletagmanager.com/gtag/js?id=G-MERCY24DEMO');
    },
    meta: function () {
      if (!window.fbq) {
        var fbq = window.fbq = function () { (fbq.queue = fbq.queue || []).push(arguments); };
      }
      window.fbq('init', '1357924680135', user && user.email ? { em: user.email } : undefined);
      window.fbq('track', 'PageView');
      load('https://connect.facebook.net/en_US/fbevents.js');
    },
    uet: function () {
      window.uetq = window.uetq || [];
      window.uetq.push('pageLoad');
      window.uetSettings = { ti: '343077771' };
      load('https://bat.bing.com/bat.js');
    },
    x: function () {
      if (!window.twq) {
        var twq = window.twq = function () { (twq.queue = twq.queue || []).push(arguments); };
      }
      window.twq('config', 'o9mrc');
      window.twq('event', 'tw-o9mrc-view', { content_name: document.title });
      load('https://static.ads-twitter.com/uwt.js');
    },
    linkedin: function () {
      window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];
      window._linkedin_data_partner_ids.push('5550001');
      load('https://snap.licdn.com/li.lms-analytics/insight.min.js');
    },
    tiktok: function () {
      if (!window.ttq) {
        var ttq = window.ttq = { queue: [] };
        ['page', 'track', 'identify'].forEach(function (m) {
          ttq[m] = function () { ttq.queue.push([m].concat([].slice.call(arguments))); };
        });
      }
      window.ttq.page();
      window.ttqSettings = { pixel: 'CMERCY0DEMO7' };
      load('https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=CMERCY0DEMO7&lib=ttq');
    },
    hotjar: function () {
      window._hjSettings = { hjid: 3141592, hjsv: 6 };
      load('https://static.hotjar.com/c/hotjar-3141592.js?sv=6');
    },
    // A lead-capture chat widget from a vendor with no agreement.
    leadloop: function () {
      window.LeadLoop = { account: 'mercy-general' };
      load('https://widget.leadloop.test/v2/loader.js');
    },
    // The scheduling vendor the hospital has a business associate agreement with.
    careslot: function () {
      window.CareSlotConfig = { clinic: 'mercy-general' };
      load('https://widget.careslot.test/embed.js');
    }
  };

  wanted.forEach(function (name) {
    if (install[name]) install[name]();
  });
})();
