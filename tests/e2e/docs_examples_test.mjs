#!/usr/bin/env node
// The backend examples of docs/sessions.md, run for real: docs/examples/verify_verdict.mjs
// (Node.js, no packages) and docs/examples/verify_verdict.py (Debian's python3 with
// python3-jwt) against a real `liveproof serve` with an API key and the real models.
//
// Usage: node tests/e2e/docs_examples_test.mjs LIVEPROOF_BIN BUILD_DIR SHARED_DIR
//
// 1. Every code block of docs/sessions.md after a `<!-- tested: docs/examples/FILE -->` line
//    must appear verbatim in FILE (the doc quotes the tested code, so they cannot drift).
// 2. For each example: `create passive` (the backend, with the key) -> the client posts a real
//    face image (SHARED_DIR/data/antispoof/fullframe/silentface_image_T1.jpg) to image_url with
//    the client token -> `check ID NONCE VERDICT` verifies the verdict the client got (exit 0,
//    the claims: sub, nonce, decision as answered) and `check ID NONCE` the one of
//    GET /v1/sessions/{id} (same jti); it refuses (exit 1) the verdict with one claim changed,
//    a wrong nonce, another session's verdict, and `create` without the API key.
//
// Exit codes: 0 pass, 1 fail, 77 skip (no models or shared data; or no python3-jwt, after the
// Node example passed).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Cleanups, SKIP, decodeJws, reporter, request, startLiveproof, tamperJws } from './harness.mjs';

const IMAGE_REL = 'data/antispoof/fullframe/silentface_image_T1.jpg';
const PYTHON = process.env.LIVEPROOF_DEBIAN_PYTHON || '/usr/bin/python3';
const KEY_ID = 'docs';
const KEY = 'docs-example-secret-0123456789';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [bin, buildDir, sharedDir] = process.argv.slice(2);
const { log, skip, die } = reporter('e2e_docs_examples');

if (!bin || !buildDir || !sharedDir) {
    console.error('usage: node docs_examples_test.mjs LIVEPROOF_BIN BUILD_DIR SHARED_DIR');
    process.exit(2);
}
if (!fs.existsSync(bin)) {
    console.error(`liveproof binary not found: ${bin}`);
    process.exit(1);
}
const imagePath = path.join(sharedDir, IMAGE_REL);
if (!fs.existsSync(imagePath)) skip(`${imagePath} not found`);
if (!fs.existsSync(path.join(repo, 'models', 'MANIFEST'))) skip('models not installed (models/MANIFEST)');

const artifacts = path.join(buildDir, 'test-artifacts');
fs.mkdirSync(artifacts, { recursive: true });
const cleanups = new Cleanups(log);

// Runs a command to its end (asynchronously: the server's output pipe keeps being drained).
function run(cmd, args, env) {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => { stdout += c; });
        child.stderr.on('data', (c) => { stderr += c; });
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
}

function checkDocQuotes() {
    const doc = fs.readFileSync(path.join(repo, 'docs', 'sessions.md'), 'utf8');
    const re = /<!-- tested: (\S+) -->\n+```[a-z]*\n([\s\S]*?)\n```/g;
    const quoted = new Set();
    for (const [, file, block] of doc.matchAll(re)) {
        const text = fs.readFileSync(path.join(repo, file), 'utf8');
        if (!text.includes(block)) {
            die(`docs/sessions.md quotes a block of ${file} that is not in the file (they drifted):\n${block}`);
        }
        quoted.add(file);
    }
    for (const file of ['docs/examples/verify_verdict.mjs', 'docs/examples/verify_verdict.py']) {
        if (!quoted.has(file)) die(`docs/sessions.md has no block marked <!-- tested: ${file} -->`);
    }
    log(`docs/sessions.md quotes ${[...quoted].join(', ')} verbatim`);
}

async function exercise(name, cmd, script, env, other) {
    const t0 = Date.now();
    const ex = (...args) => run(cmd, [script, ...args], env);
    const json = (r, what) => {
        if (r.code !== 0) die(`${name} ${what}: exit ${r.code}: ${r.stderr}`);
        try {
            return JSON.parse(r.stdout);
        } catch {
            return die(`${name} ${what}: not JSON: ${r.stdout}`);
        }
    };
    const refused = async (what, args, expect) => {
        const r = await ex(...args);
        if (r.code === 0) die(`${name} ${what}: accepted (exit 0): ${r.stdout}`);
        if (!expect.test(r.stderr)) die(`${name} ${what}: exit ${r.code} but stderr "${r.stderr.trim()}" !~ ${expect}`);
        log(`${name}: ${what} refused: ${r.stderr.trim()}`);
    };

    const session = json(await ex('create', 'passive'), 'create passive');
    for (const k of ['session_id', 'client_token', 'image_url', 'nonce']) {
        if (typeof session[k] !== 'string' || !session[k]) die(`${name} create: no ${k} in ${JSON.stringify(session)}`);
    }
    if (session.mode !== 'passive') die(`${name} create: mode ${session.mode}`);

    // The client's part: the image, with the token only.
    const answer = await request(`${session.image_url}?token=${encodeURIComponent(session.client_token)}`, {
        method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body: fs.readFileSync(imagePath),
    });
    if (answer.status !== 200 || typeof answer.body.verdict !== 'string') {
        die(`${name}: the image door answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    const verdict = answer.body.verdict;
    log(`${name}: session ${session.session_id}: decision ${answer.body.decision}, confidence ${answer.body.confidence}`);

    const claims = json(await ex('check', session.session_id, session.nonce, verdict), 'check (client verdict)');
    if (claims.sub !== session.session_id || claims.nonce !== session.nonce ||
        claims.decision !== answer.body.decision || claims.mode !== 'passive') {
        die(`${name} check: claims ${JSON.stringify(claims)} do not match the session and answer`);
    }
    const stored = json(await ex('check', session.session_id, session.nonce), 'check (GET /v1/sessions/{id})');
    if (stored.jti !== claims.jti) die(`${name}: the record's verdict ${stored.jti} is not the client's ${claims.jti}`);

    const flipped = claims.decision === 'live' ? 'spoof' : 'live';
    await refused(`the verdict with decision changed to ${flipped}`,
                  ['check', session.session_id, session.nonce, tamperJws(verdict, 'decision', flipped)],
                  /not verified: .*signature/i);
    await refused('a wrong nonce', ['check', session.session_id, 'not-the-nonce', verdict],
                  /not verified: .*another session/);
    if (other) {
        await refused("another session's verdict", ['check', session.session_id, session.nonce, other],
                      /not verified: .*another session/);
    }
    const noKey = await run(cmd, [script, 'create', 'passive'], { ...env, LIVEPROOF_API_KEY: '' });
    if (noKey.code === 0 || !/401/.test(noKey.stderr)) {
        die(`${name} create without the API key: exit ${noKey.code}, ${noKey.stderr || noKey.stdout}`);
    }
    log(`${name}: create without the API key refused (401); ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return verdict;
}

async function main() {
    checkDocQuotes();
    const { base } = await startLiveproof({
        bin, args: ['--api-key', `${KEY_ID}:${KEY}`], cleanups, log,
        logFile: path.join(artifacts, 'docs_examples_server.log'),
    });
    const env = { LIVEPROOF_URL: base, LIVEPROOF_API_KEY: KEY };
    // The models load after "listening": wait until the server is ready.
    for (let i = 0; ; i++) {
        if ((await request(`${base}/readyz`).catch(() => ({ status: 0 }))).status === 200) break;
        if (i >= 600) die('the server was not ready within 60 s');
        await new Promise((r) => setTimeout(r, 100));
    }
    const nodeVerdict = await exercise('node', process.execPath,
                                       path.join(repo, 'docs', 'examples', 'verify_verdict.mjs'), env, null);
    const py = await run(PYTHON, ['-c', 'import jwt, jwt.algorithms; jwt.algorithms.OKPAlgorithm'], {});
    if (py.code !== 0) {
        log(`the Node example PASSED; ${PYTHON} has no PyJWT with OKP (apt-get install python3-jwt): ` +
            'the Python example is not tested');
        process.exitCode = SKIP;
        return;
    }
    await exercise('python', PYTHON, path.join(repo, 'docs', 'examples', 'verify_verdict.py'), env, nodeVerdict);
    log(`PASS (${decodeJws(nodeVerdict).header.alg} verdicts)`);
}

try {
    await main();
} catch (e) {
    if (!process.exitCode) {
        console.error(`[e2e_docs_examples] FAIL: ${e.stack || e.message}`);
        process.exitCode = 1;
    }
} finally {
    await cleanups.run();
}
