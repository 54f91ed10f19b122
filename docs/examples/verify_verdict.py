#!/usr/bin/env python3
"""An integrator's backend in Python (PyJWT with cryptography, Debian python3-jwt): creates a
liveness session with its API key and checks the verdict of the session's run
(docs/sessions.md). Tested by tests/e2e/docs_examples_test.mjs against a real server;
docs/sessions.md quotes verify_verdict.

  export LIVEPROOF_URL=https://liveness.example LIVEPROOF_API_KEY=...
  python3 verify_verdict.py create [active|passive|blink]
      -> the 201 answer plus the nonce it asked for; give the client session_id and
         client_token only, keep the nonce
  python3 verify_verdict.py check SESSION_ID NONCE [VERDICT]
      -> the verified claims (exit 0), or why not (exit 1). VERDICT is the token the client
         forwarded; without it, the verdict of GET /v1/sessions/{id}
"""
import json
import os
import secrets
import sys
import urllib.error
import urllib.request

import jwt
from jwt.algorithms import OKPAlgorithm

BASE = os.environ.get("LIVEPROOF_URL", "http://localhost:8001")
AUTH = {"X-API-KEY": os.environ.get("LIVEPROOF_API_KEY", "")}


def verify_verdict(token, jwks, session_id, nonce, audience="liveproof-backend",
                   issuer="liveproof"):
    """The signature (EdDSA, the key the header's kid names), aud, iss and exp (PyJWT), then
    sub and nonce. Returns the claims or raises."""
    kid = jwt.get_unverified_header(token).get("kid")
    jwk = next((k for k in jwks["keys"] if k.get("kid") == kid), None)
    if jwk is None:
        raise jwt.InvalidKeyError(f"unknown key {kid!r}")
    key = OKPAlgorithm.from_jwk(json.dumps(jwk))
    claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=audience, issuer=issuer,
                        options={"require": ["exp", "sub"]})
    if claims["sub"] != session_id or claims["nonce"] != nonce:
        raise jwt.InvalidTokenError("another session")
    return claims  # claims["decision"] == "live" is a pass


def api(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {**AUTH, **({"Content-Type": "application/json"} if data else {})}
    request = urllib.request.Request(BASE + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{path}: HTTP {e.code} {e.read().decode(errors='replace')}") from None


def main(args):
    if args[:1] == ["create"]:
        body = {"mode": args[1] if len(args) > 1 else "active", "nonce": secrets.token_hex(16)}
        return {**api("/v1/sessions", body), "nonce": body["nonce"]}
    if args[:1] == ["check"] and len(args) in (3, 4):
        session_id, nonce = args[1], args[2]
        token = args[3] if len(args) == 4 else api(f"/v1/sessions/{session_id}")["verdict"]
        if not token:
            raise RuntimeError("the session has no verdict yet")
        return verify_verdict(token, api("/.well-known/jwks.json"), session_id, nonce)
    raise SystemExit("usage: verify_verdict.py create [MODE] | check SESSION_ID NONCE [VERDICT]")


if __name__ == "__main__":
    try:
        print(json.dumps(main(sys.argv[1:]), indent=2))
    except (jwt.PyJWTError, RuntimeError, KeyError, ValueError) as e:
        sys.exit(f"not verified: {type(e).__name__}: {e}")
