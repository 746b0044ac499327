// Health library search: a tiny first-party index searched in the page, then the site's tags are
// told about the search the way hospital sites commonly configure them (site-search events).
(function () {
  var articles = [
    { path: '/conditions/chest-pain', title: 'Chest pain', words: 'chest pain pressure tightness heart stairs exertion arm' },
    { path: '/conditions/angina', title: 'Angina', words: 'angina chest pain exertion stairs climbing heart' },
    { path: '/conditions/heart-attack-warning-signs', title: 'Heart attack warning signs', words: 'heart attack chest pain arm jaw sweating' },
    { path: '/conditions/migraine', title: 'Migraine', words: 'migraine headache aura nausea light' },
    { path: '/conditions/type-2-diabetes', title: 'Type 2 diabetes', words: 'diabetes sugar thirst insulin' }
  ];
  var q = (new URLSearchParams(location.search).get('q') || '').trim();
  var input = document.getElementById('q');
  if (input) input.value = q;
  var terms = q.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 2; });
  var hits = articles.filter(function (a) {
    return terms.some(function (t) { return a.words.indexOf(t) >= 0; });
  });
  var list = document.getElementById('results');
  hits.forEach(function (a) {
    var li = document.createElement('li');
    var link = document.createElement('a');
    link.href = a.path;
    link.textContent = a.title;
    li.appendChild(link);
    list.appendChild(li);
  });
  document.getElementById('summary').textContent =
    hits.length + (hits.length === 1 ? ' article matches' : ' articles match') + ' your search.';
  if (!q) return;
  // Site-search events, as a marketing team would configure them.
  window.gtag && gtag('event', 'search', { search_term: q });
  window.gtag && gtag('event', 'view_search_results', { search_term: q });
  window.fbq && fbq('track', 'Search', { search_string: q });
  window.uetq = window.uetq || [];
  window.uetq.push('event', 'search', { event_category: 'health library', event_label: q });
  // The hospital's own analytics (first party: not a leak).
  (window._mm = window._mm || []).push(['search', q]);
})();
