// Find a doctor: filters a small first-party directory, then reports the search to the site's tags.
(function () {
  var doctors = [
    { id: 'anika-patel', name: 'Dr. Anika Patel', specialty: 'cardiology', focus: 'palpitations arrhythmia heart rhythm chest pain' },
    { id: 'samuel-okafor', name: 'Dr. Samuel Okafor', specialty: 'cardiology', focus: 'heart failure hypertension chest pain' },
    { id: 'lena-fischer', name: 'Dr. Lena Fischer', specialty: 'neurology', focus: 'migraine headache epilepsy' },
    { id: 'marcus-hale', name: 'Dr. Marcus Hale', specialty: 'primary-care', focus: 'checkups diabetes blood pressure' }
  ];
  var params = new URLSearchParams(location.search);
  var q = (params.get('q') || '').trim();
  var specialty = params.get('specialty') || '';
  if (!q && !specialty) return;
  document.getElementById('fad-q').value = q;
  document.getElementById('fad-specialty').value = specialty;
  var words = q.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 3; });
  var hits = doctors.filter(function (d) {
    if (specialty && d.specialty !== specialty) return false;
    if (!words.length) return true;
    var hay = (d.name + ' ' + d.specialty + ' ' + d.focus).toLowerCase();
    return words.some(function (w) { return hay.indexOf(w.replace(/s$/, '')) >= 0; });
  });
  var list = document.getElementById('doctor-results');
  hits.forEach(function (d) {
    var li = document.createElement('li');
    li.className = 'doctor';
    li.innerHTML = '<span><strong></strong> · <span class="spec"></span></span>';
    li.querySelector('strong').textContent = d.name;
    li.querySelector('.spec').textContent = d.specialty;
    var book = document.createElement('a');
    book.className = 'button book';
    book.id = 'book-' + d.id;
    book.href = '/appointments/book?doctor=' + d.id;
    book.textContent = 'Book appointment';
    li.appendChild(book);
    list.appendChild(li);
  });
  document.getElementById('doctor-summary').textContent = hits.length + ' doctors found.';
  window.gtag && gtag('event', 'search', { search_term: q });
  window.ttq && ttq.track('Search', { query: q });
  (window._mm = window._mm || []).push(['doctor_search', q]);
})();
