// Exposes the real @segment/analytics-next AnalyticsBrowser as window.AnalyticsBrowser for
// tests/fixtures/npm-site/segment.html.
import { AnalyticsBrowser } from '@segment/analytics-next';
window.AnalyticsBrowser = AnalyticsBrowser;
