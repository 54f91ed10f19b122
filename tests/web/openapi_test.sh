#!/usr/bin/env bash
# Checks the built web assets: <web>/openapi.json is OpenAPI 3.x JSON with every endpoint of the
# server (and exactly the right methods, auth exemptions and resolvable $refs), and the Swagger UI
# page <web>/docs/index.html is self-contained (no http(s):// URL, local assets present).
# Usage: tests/web/openapi_test.sh BUILD_DIR/web     (bash + node; no other dependency)
set -euo pipefail
web=${1:?usage: openapi_test.sh WEB_BUILD_DIR}
command -v node >/dev/null || { echo "FAIL: node not found"; exit 1; }
for f in openapi.json docs/index.html docs/swagger-ui.css docs/swagger-ui-bundle.js \
         docs/swagger-ui-standalone-preset.js docs/favicon-32x32.png; do
    [ -s "$web/$f" ] || { echo "FAIL: $web/$f missing or empty (build the liveproof_web target)"; exit 1; }
done

# The docs page must not load anything from the network.
if grep -Eino 'https?://' "$web/docs/index.html"; then
    echo "FAIL: $web/docs/index.html references an http(s):// URL (above)"
    exit 1
fi

node - "$web" <<'JS'
const fs = require('fs');
const path = require('path');
const web = process.argv[2];
const errors = [];
const check = (ok, msg) => { if (!ok) errors.push(msg); };

let doc;
try {
  doc = JSON.parse(fs.readFileSync(path.join(web, 'openapi.json'), 'utf8'));
} catch (e) {
  console.log(`FAIL: openapi.json does not parse: ${e.message}`);
  process.exit(1);
}
check(typeof doc.openapi === 'string' && /^3\.\d+\.\d+$/.test(doc.openapi),
      `"openapi" is not a 3.x version: ${JSON.stringify(doc.openapi)}`);
check(doc.info && typeof doc.info.title === 'string' && typeof doc.info.version === 'string',
      'info.title and info.version are required');
const paths = doc.paths || {};

// Every endpoint of the server, with exactly these methods; `open` = no API key.
const expected = {
  '/':                          { methods: ['get'],  open: true },
  '/healthz':                   { methods: ['get'],  open: true },
  '/readyz':                    { methods: ['get'],  open: true },
  '/metrics':                   { methods: ['get'],  open: false },
  '/openapi.json':              { methods: ['get'],  open: true },
  '/docs':                      { methods: ['get'],  open: true },
  '/liveness':                  { methods: ['post'], open: false },
  '/active/blink':              { methods: ['post'], open: false },
  '/liveness-detection':        { methods: ['post'], open: false },
  '/liveness-detection-base64': { methods: ['post'], open: false },
  '/check_liveness':            { methods: ['post'], open: false },
  '/check_liveness_base64':     { methods: ['post'], open: false },
  '/get-machine-code':          { methods: ['get'],  open: false },
  '/activate-machine':          { methods: ['post'], open: false },
  '/api/health':                { methods: ['get'],  open: false },
  '/api/machinecode':           { methods: ['get'],  open: false },
  '/api/backend':               { methods: ['get'],  open: false },
  '/api/activate':              { methods: ['post'], open: false },
  '/api/liveness':              { methods: ['post'], open: false },
  '/api/check_liveness':        { methods: ['post'], open: false },
  '/v1/analyze':                { methods: ['post'], open: false },
  '/test':                      { methods: ['get'],  open: true },
  '/ws':                        { methods: ['get'],  open: false, upgrade: true },
  '/start':                     { methods: ['post'], open: false },
  '/frame':                     { methods: ['post'], open: false },
  '/v1/sessions':               { methods: ['get', 'post'], open: false, ok: { post: '201' } },
  '/v1/sessions/{session_id}':  { methods: ['delete', 'get'], open: false, ok: { delete: '204' } },
  '/v1/sessions/{session_id}/images/{n}': { methods: ['get'], open: false },
  '/v1/sessions/{session_id}/ws':    { methods: ['get'],  open: true, upgrade: true },
  '/v1/sessions/{session_id}/image': { methods: ['post'], open: true },
  '/v1/sessions/{session_id}/video': { methods: ['post'], open: true },
  '/.well-known/jwks.json':     { methods: ['get'],  open: true },
};
const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const schemes = Object.keys((doc.components || {}).securitySchemes || {});
check(schemes.length >= 2, 'components.securitySchemes needs the X-API-KEY header and bearer schemes');
const sch = (doc.components || {}).securitySchemes || {};
check(Object.values(sch).some(s => s.type === 'apiKey' && s.in === 'header' && s.name === 'X-API-KEY'),
      'no apiKey security scheme for the X-API-KEY header');
check(Object.values(sch).some(s => s.type === 'http' && s.scheme === 'bearer'),
      'no http bearer security scheme');
check(Array.isArray(doc.security) && doc.security.length > 0, 'no global security requirement');

for (const [p, want] of Object.entries(expected)) {
  const item = paths[p];
  if (!item) { errors.push(`missing path ${p}`); continue; }
  const have = Object.keys(item).filter(k => httpMethods.includes(k)).sort();
  check(JSON.stringify(have) === JSON.stringify([...want.methods].sort()),
        `${p}: methods ${have.join(',') || '(none)'}, expected ${want.methods.join(',')}`);
  for (const m of have) {
    const op = item[m];
    const isOpen = Array.isArray(op.security) && op.security.length === 0;
    check(isOpen === want.open, `${p} ${m}: ${want.open ? 'must' : 'must not'} have security: []`);
    // /ws answers 101 Switching Protocols; a creation 201, a deletion 204.
    const ok = (want.ok || {})[m] || (want.upgrade ? '101' : '200');
    check(op.responses && op.responses[ok], `${p} ${m}: no ${ok} response`);
    if (!want.open) check(op.responses && op.responses['401'], `${p} ${m}: no 401 response`);
  }
}
for (const p of Object.keys(paths)) check(p in expected, `unexpected path ${p}`);

// Every local $ref resolves.
const resolve = ref => ref.slice(2).split('/').reduce(
  (n, k) => (n && typeof n === 'object') ? n[k.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined, doc);
(function walk(n, at) {
  if (Array.isArray(n)) n.forEach((v, i) => walk(v, `${at}/${i}`));
  else if (n && typeof n === 'object') {
    for (const [k, v] of Object.entries(n)) {
      if (k === '$ref') check(typeof v === 'string' && v.startsWith('#/') && resolve(v) !== undefined,
                              `${at}: unresolved $ref ${v}`);
      else walk(v, `${at}/${k}`);
    }
  }
})(doc, '#');

// The docs page: local assets by relative paths, spec from /openapi.json.
const html = fs.readFileSync(path.join(web, 'docs', 'index.html'), 'utf8');
for (const a of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']) {
  check(new RegExp(`(src|href)="(\\./)?${a.replace(/\./g, '\\.')}"`).test(html),
        `docs/index.html does not load ${a} by a relative path`);
}
check(/url:\s*['"]\/openapi\.json['"]/.test(html), 'docs/index.html does not point Swagger UI at /openapi.json');
check(!/\/\/[a-z0-9.-]+\.[a-z]{2,}\//i.test(html.replace(/<!--[\s\S]*?-->/g, '')),
      'docs/index.html has a protocol-relative external URL');

if (errors.length) {
  console.log('FAIL:\n  ' + errors.join('\n  '));
  process.exit(1);
}
console.log(`OK: OpenAPI ${doc.openapi}, ${Object.keys(paths).length} paths, docs page self-contained`);
JS
