#!/usr/bin/env node
// An integrator's backend in Node.js (18 or later, no packages): creates a liveness session with
// its API key and checks the verdict of the session's run (docs/sessions.md). Tested by
// tests/e2e/docs_examples_test.mjs against a real server; docs/sessions.md quotes verifyVerdict.
//
//   export LIVEPROOF_URL=https://liveness.example LIVEPROOF_API_KEY=...
//   node verify_verdict.mjs create [active|passive|blink]
//       -> the 201 answer plus the nonce it asked for; give the client session_id and
//          client_token only, keep the nonce
//   node verify_verdict.mjs check SESSION_ID NONCE [VERDICT]
//       -> the verified claims (exit 0), or why not (exit 1). VERDICT is the token the client
//          forwarded; without it, the verdict of GET /v1/sessions/{id}
import crypto from 'node:crypto';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

const base = process.env.LIVEPROOF_URL ?? 'http://localhost:8001';
const auth = { 'X-API-KEY': process.env.LIVEPROOF_API_KEY ?? '' };

// The signature (Ed25519, the key the header's kid names), then the claims that make the
// verdict this session's answer to this backend. Returns the claims or throws.
export function verifyVerdict(token, jwks, { sessionId, nonce, audience = 'liveproof-backend',
                                             issuer = 'liveproof' }) {
  const [h, p, s] = token.split('.');
  const { kid, alg } = JSON.parse(Buffer.from(h, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (alg !== 'EdDSA' || !jwk) throw new Error('unknown key');
  const ok = crypto.verify(null, Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }),
                           Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('bad signature');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  if (claims.aud !== audience || claims.iss !== issuer) throw new Error('not for this backend');
  if (!(claims.exp > Date.now() / 1000)) throw new Error('expired');
  if (claims.sub !== sessionId || claims.nonce !== nonce) throw new Error('another session');
  return claims;  // claims.decision === 'live' is a pass
}

async function api(path, init = {}) {
  const r = await fetch(`${base}${path}`, { ...init, headers: { ...auth, ...init.headers } });
  const body = await r.json();
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${body.error ?? ''} ${body.detail ?? ''}`);
  return body;
}

async function main([command, id, nonce, verdict]) {
  if (command === 'create') {
    const body = { mode: id ?? 'active', nonce: crypto.randomBytes(16).toString('hex') };
    const session = await api('/v1/sessions', { method: 'POST', body: JSON.stringify(body),
                                                headers: { 'Content-Type': 'application/json' } });
    return { ...session, nonce: body.nonce };
  }
  if (command === 'check' && id && nonce) {
    const token = verdict ?? (await api(`/v1/sessions/${id}`)).verdict;
    if (!token) throw new Error('the session has no verdict yet');
    return verifyVerdict(token, await api('/.well-known/jwks.json'), { sessionId: id, nonce });
  }
  throw new Error('usage: verify_verdict.mjs create [MODE] | check SESSION_ID NONCE [VERDICT]');
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then((out) => console.log(JSON.stringify(out, null, 2)),
                                   (e) => { console.error(`not verified: ${e.message}`); process.exitCode = 1; });
}
