// Exposes the real posthog-js as window.posthog for tests/fixtures/npm-site/posthog.html.
import posthog from 'posthog-js';
window.posthog = posthog;
