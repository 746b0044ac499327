// Exposes the real mixpanel-browser as window.mixpanel for tests/fixtures/npm-site/mixpanel.html.
import mixpanel from 'mixpanel-browser';
window.mixpanel = mixpanel;
