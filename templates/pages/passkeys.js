// The passkey button of gatehouse's pages: the one script they have, served
// as a file (GET /pages/passkeys.js) under a policy that allows no other.
// Everything a ceremony needs is in the page's data- attributes, never in
// inline script. Three places use it:
//   #passkey-signin    (/signin): a username-less sign-in
//                      (POST login/passkey/options, then login/passkey)
//   #passkey-mfa       (the second-factor page): the options in
//                      data-options, answered to POST login/mfa
//   #passkey-register  (/account): a new passkey
//                      (POST me/passkeys/options, then me/passkeys)
// Each element carries data-base (the way back to the service's root) and
// data-account (where to go when signed in). Binary values travel as
// base64url, as WebAuthn Level 3's JSON forms have them.
'use strict';

(function () {
  function toBuffer(s) {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toBase64url(buf) {
    const bytes = new Uint8Array(buf);
    let bin = '';
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withIds(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: toBuffer(c.id) }));
  }

  // PublicKeyCredentialRequestOptionsJSON into the options get() takes.
  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function')
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    });
  }

  // PublicKeyCredentialCreationOptionsJSON into the options create() takes.
  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function')
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      user: Object.assign({}, json.user, { id: toBuffer(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  }

  // A credential as its JSON form (RegistrationResponseJSON or
  // AuthenticationResponseJSON).
  function credentialJSON(cred) {
    if (typeof cred.toJSON === 'function') return cred.toJSON();
    const r = cred.response;
    const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === 'function') response.transports = r.getTransports();
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response,
    };
  }

  // A POST of body as JSON (none when undefined) with the browser's
  // cookies; its answer's JSON.
  async function post(url, body) {
    const init = { method: 'POST', credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url, init);
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    return res.status === 204 ? null : res.json();
  }

  function failed(box) {
    const p = box.querySelector('.error');
    if (p) {
      p.textContent = p.dataset.message;
      p.hidden = false;
    }
  }

  async function signIn(box, url) {
    const options = await post(url('login/passkey/options'), {});
    const flowId = options.flow_id;
    delete options.flow_id;
    const cred = await navigator.credentials.get({ publicKey: requestOptions(options.publicKey || options) });
    await post(url('login/passkey'), { flow_id: flowId, credential: credentialJSON(cred) });
  }

  async function secondFactor(box, url) {
    const options = JSON.parse(box.dataset.options);
    const cred = await navigator.credentials.get({ publicKey: requestOptions(options.publicKey || options) });
    await post(url('login/mfa'), { mfa_token: box.dataset.mfaToken, webauthn: credentialJSON(cred) });
  }

  async function register(box, url) {
    const options = await post(url('me/passkeys/options'));
    const cred = await navigator.credentials.create({ publicKey: creationOptions(options.publicKey || options) });
    await post(url('me/passkeys'), credentialJSON(cred));
  }

  const ceremonies = { 'passkey-signin': signIn, 'passkey-mfa': secondFactor, 'passkey-register': register };

  function start() {
    if (!window.PublicKeyCredential || !navigator.credentials) return; // the button stays hidden
    for (const [id, run] of Object.entries(ceremonies)) {
      const box = document.getElementById(id);
      if (!box) continue;
      const url = (path) => new URL(box.dataset.base + path, document.baseURI).href;
      const button = box.querySelector('button');
      box.hidden = false;
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          await run(box, url);
          location.assign(new URL(box.dataset.account, document.baseURI).href);
        } catch (e) {
          failed(box);
          button.disabled = false;
        }
      });
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
