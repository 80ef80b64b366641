// Starts Swagger UI on /docs. A file of its own, not an inline script, so
// that the page's Content-Security-Policy can say script-src 'self'.
'use strict';

window.ui = SwaggerUIBundle({
  // Relative: /docs and /openapi.json sit side by side.
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  // BaseLayout: no top bar, and no validator badge, which would load an
  // image from validator.swagger.io.
  layout: 'BaseLayout',
  validatorUrl: null,
  displayRequestDuration: true,
});
