// Starts Swagger UI on /docs. A file of its own, not an inline script, so
// that the page's Content-Security-Policy can say script-src 'self'.
'use strict';

// The schemes this page can use, and none other: the access_token cookie is
// HttpOnly, so nothing a page can type into the Authorize dialog sets it.
// openapi.json (and ReDoc) still say which routes read it.
function browserSchemes(spec) {
  const schemes = spec?.components?.securitySchemes;
  if (!schemes) return spec;
  const usable = (req) => Object.keys(req).every((name) => schemes[name]?.in !== 'cookie');
  for (const [name, scheme] of Object.entries(schemes)) {
    if (scheme.in === 'cookie') delete schemes[name];
  }
  for (const item of Object.values(spec.paths ?? {})) {
    for (const op of Object.values(item)) {
      if (Array.isArray(op?.security)) op.security = op.security.filter(usable);
    }
  }
  return spec;
}

// Swagger UI's Logout forgets the token it holds, but with SESSION_COOKIES=1
// the sign-in also set HttpOnly cookies that "Try it out" would go on
// sending. So Logout also ends the session at POST /logout, which clears
// them: with the token being forgotten, or, without one, by the cookie
// (the page's own origin passes the cookie's Origin check).
function tokenOf(auth) {
  return auth?.getIn?.(['token', 'access_token']) ?? (typeof auth?.get?.('value') === 'string' ? auth.get('value') : null);
}

const EndSessionOnLogout = () => ({
  statePlugins: {
    spec: {
      wrapActions: {
        updateJsonSpec: (next) => (spec) => next(browserSchemes(spec)),
      },
    },
    auth: {
      wrapActions: {
        logout: (next, system) => (names) => {
          const held = system.authSelectors.authorized();
          const token = [].concat(names).map((n) => tokenOf(held?.get?.(n))).find(Boolean);
          fetch('logout', {
            method: 'POST',
            credentials: 'same-origin',
            headers: token ? { Authorization: `Bearer ${token}` } : {},
          }).catch(() => {});
          return next(names);
        },
      },
    },
  },
});

window.ui = SwaggerUIBundle({
  // Relative: /docs and /openapi.json sit side by side.
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  plugins: [EndSessionOnLogout],
  // BaseLayout: no top bar, and no validator badge, which would load an
  // image from validator.swagger.io.
  layout: 'BaseLayout',
  validatorUrl: null,
  displayRequestDuration: true,
});
