// Booking form: fills in the chosen doctor and, on submit, tells the tags about the conversion the
// way ad platforms recommend (TikTok identify with the patient's contact details, then an event).
(function () {
  var doctor = new URLSearchParams(location.search).get('doctor') || '';
  document.getElementById('doctor').value = doctor;
  if (doctor) {
    document.getElementById('with-doctor').textContent =
      'With ' + doctor.split('-').map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1); }).join(' ');
  }
  document.getElementById('booking-form').addEventListener('submit', function () {
    var email = document.getElementById('email').value;
    var phone = document.getElementById('phone').value;
    if (window.ttq) {
      ttq.identify({ email: email, phone_number: phone });
      ttq.track('SubmitForm', { content_type: 'appointment' });
    }
  });
})();
