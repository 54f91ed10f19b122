#!/usr/bin/env node
// Builds the web assets the liveproof server serves (no network access, no run-time downloads):
//   <out>/openapi.json            web/openapi.yaml converted to JSON   -> GET /openapi.json
//   <out>/docs/index.html         web/docs.html                        -> GET /docs, /docs/
//   <out>/docs/swagger-ui.css, swagger-ui-bundle.js, swagger-ui-standalone-preset.js,
//   favicon-32x32.png             copied from web/node_modules/swagger-ui-dist -> GET /docs/<name>
//   <out>/test/index.html         web/test.html (the liveness-session demo)    -> GET /test, /test/
//   <out>/test/liveness-client.js web/liveness-client.js (its client module)  -> GET /test/<name>
//
// Usage: node web/build_web.mjs OUT_DIR
// Needs `npm ci --prefix web` first (js-yaml and swagger-ui-dist). Uses only Node built-ins and
// js-yaml. Fails (exit 1) with a clear message on a YAML error, a missing file or a document
// that is not an OpenAPI 3.x object.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const swaggerDir = path.join(webDir, 'node_modules', 'swagger-ui-dist');
const swaggerFiles = [
    'swagger-ui.css',
    'swagger-ui-bundle.js',
    'swagger-ui-standalone-preset.js',
    'favicon-32x32.png',
];

function fail(message) {
    console.error(`build_web: ${message}`);
    process.exit(1);
}

// Writes through a temporary file and a rename, so a failed build never leaves a half file.
function writeAtomic(file, data) {
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
}

// The version comes from CMake's project() (the one place every part reads it from).
const outDir = process.argv[2];
const version = process.argv[3];
if (!outDir || !version || process.argv.length > 4) fail('usage: node build_web.mjs OUT_DIR VERSION');

if (!fs.existsSync(path.join(webDir, 'node_modules', 'js-yaml')) || !fs.existsSync(swaggerDir)) {
    fail(`${path.join(webDir, 'node_modules')} is missing or incomplete: run npm ci --prefix web`);
}
const { load } = await import('js-yaml');

// 1. openapi.yaml -> openapi.json
const yamlPath = path.join(webDir, 'openapi.yaml');
let doc;
try {
    doc = load(fs.readFileSync(yamlPath, 'utf8'), { filename: yamlPath });
} catch (e) {
    fail(`YAML error in ${yamlPath}:\n${e.message}`);
}
if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    fail(`${yamlPath}: the document is not a mapping`);
}
if (typeof doc.openapi !== 'string' || !/^3\.\d+\.\d+$/.test(doc.openapi)) {
    fail(`${yamlPath}: "openapi" must be a 3.x.y version string, found ${JSON.stringify(doc.openapi)}`);
}
if (!doc.info || !doc.paths || typeof doc.paths !== 'object') {
    fail(`${yamlPath}: "info" and "paths" are required`);
}

// Every local $ref must resolve, so a typo fails the build rather than the browser.
function resolvePointer(root, ref) {
    let node = root;
    for (const raw of ref.slice(2).split('/')) {
        const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
        if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
        node = node[key];
    }
    return node;
}
const badRefs = [];
(function walk(node, where) {
    if (Array.isArray(node)) {
        node.forEach((v, i) => walk(v, `${where}/${i}`));
    } else if (node !== null && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
            if (k === '$ref' && typeof v === 'string') {
                if (!v.startsWith('#/') || resolvePointer(doc, v) === undefined) {
                    badRefs.push(`${where}: ${v}`);
                }
            } else {
                walk(v, `${where}/${k}`);
            }
        }
    }
})(doc, '#');
if (badRefs.length) fail(`unresolved $ref in ${yamlPath}:\n  ${badRefs.join('\n  ')}`);

doc.info = { ...doc.info, version };

const docsOut = path.join(outDir, 'docs');
fs.mkdirSync(docsOut, { recursive: true });
writeAtomic(path.join(outDir, 'openapi.json'), JSON.stringify(doc, null, 2) + '\n');

// 2. Swagger UI: the page and its assets.
for (const name of swaggerFiles) {
    const src = path.join(swaggerDir, name);
    if (!fs.existsSync(src)) fail(`${src} not found (swagger-ui-dist incomplete?): run npm ci --prefix web`);
    writeAtomic(path.join(docsOut, name), fs.readFileSync(src));
}
const html = fs.readFileSync(path.join(webDir, 'docs.html'), 'utf8');
if (/\bhttps?:\/\//i.test(html)) fail('web/docs.html must not reference any http(s):// URL');
writeAtomic(path.join(docsOut, 'index.html'), html);

// 3. The demo page (a liveness session) and its dependency-free client module: no external assets.
const testOut = path.join(outDir, 'test');
fs.mkdirSync(testOut, { recursive: true });
for (const [src, dst] of [['test.html', 'index.html'], ['liveness-client.js', 'liveness-client.js']]) {
    const text = fs.readFileSync(path.join(webDir, src), 'utf8');
    if (/\bhttps?:\/\//i.test(text)) fail(`web/${src} must not reference any http(s):// URL`);
    writeAtomic(path.join(testOut, dst), text);
}

const nPaths = Object.keys(doc.paths).length;
const swaggerVersion = JSON.parse(fs.readFileSync(path.join(swaggerDir, 'package.json'), 'utf8')).version;
console.log(`build_web: ${path.join(outDir, 'openapi.json')} (${nPaths} paths), ` +
            `${docsOut}/ (swagger-ui-dist ${swaggerVersion}), ${testOut}/`);
