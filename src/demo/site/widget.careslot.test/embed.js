// leakhound demo: "CareSlot", a fictional scheduling vendor that has signed a business associate
// agreement with the hospital (the demo policy allows it). It checks availability for the chosen
// doctor and files the booking:
//   GET  https://api.careslot.test/v1/slots?clinic=&provider=&page=<page URL>
//   POST https://api.careslot.test/v1/bookings  JSON {clinic, provider, patient{...}, reason, slot, page}
(function () {
  'use strict';
  var cfg = window.CareSlotConfig || {};
  var provider = new URLSearchParams(location.search).get('doctor') || '';
  new Image().src = 'https://api.careslot.test/v1/slots?clinic=' + encodeURIComponent(cfg.clinic || '') +
    '&provider=' + encodeURIComponent(provider) + '&page=' + encodeURIComponent(location.href);
  function val(id) { var el = document.getElementById(id); return el ? el.value : ''; }
  document.addEventListener('submit', function (e) {
    if (!e.target || e.target.id !== 'booking-form') return;
    var booking = {
      clinic: cfg.clinic || '', provider: provider, page: location.href,
      patient: { first_name: val('first-name'), last_name: val('last-name'), email: val('email'), phone: val('phone'), dob: val('dob') },
      reason: val('reason'), slot: val('slot')
    };
    navigator.sendBeacon('https://api.careslot.test/v1/bookings', JSON.stringify(booking));
  }, true);
})();
