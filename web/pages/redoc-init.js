// Starts ReDoc on /redoc. A file of its own, not an inline script, so that
// the page's Content-Security-Policy can say script-src 'self'.
'use strict';

Redoc.init('openapi.json', {
  expandResponses: '200,204',
  hideDownloadButton: false,
}, document.getElementById('redoc'));
