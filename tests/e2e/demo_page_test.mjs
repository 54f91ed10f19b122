#!/usr/bin/env node
// End-to-end test of the demo page (web/test.html + web/liveness-client.js) in headless
// Chromium against the real `liveproof serve` with the real models: the page runs one liveness
// session (docs/sessions.md) and shows its signed verdict, whose signature it checks itself.
//
// Usage: node tests/e2e/demo_page_test.mjs LIVEPROOF_BIN BUILD_DIR SHARED_DIR
//
// 1. Converts SHARED_DIR/data/video/apfol_real2_live_headturn.webm (a real person who turns
//    left and right on their own) to a .y4m in a temporary folder, which Chromium's fake
//    camera plays in a loop (--use-file-for-fake-video-capture).
// 2. Starts a server without API keys on 127.0.0.1 with a free port and looser timing only
//    (challenges LEFT,RIGHT, 2 successes, 50 wrong moves allowed, 20 s per move, 90 s per
//    session); the pose thresholds and the session signals stay at their defaults.
// 3. Cross-origin check: the page from a tiny static server on another port, pointed at the
//    server with ?server=http://..., must create a session and get answers on its socket; then
//    Stop must tear down.
// 4. The full run, the page as served at GET /test: Start; the page creates the session
//    (POST /v1/sessions), runs it over its ws_url and ends (at most 120 s) with a verdict. The
//    outcome (live, or e.g. too_fast / spoof_detected) depends on how the looping clip meets the
//    instructions, so only what is deterministic is asserted: the session the page created is
//    the verdict's sub, the page shows the decision of the verdict's claims and "signature
//    verified" (its WebCrypto check), the overlay agrees with the decision, the camera is
//    released; jose (web/node_modules, an independent implementation) verifies that verdict
//    against /.well-known/jwks.json and rejects it with one claim changed; GET
//    /v1/sessions/{id} has the same verdict and decision.
// 5. Forged keys: the same run with the page's JWKS answer replaced by a key with the same kid
//    and another public key: the page must say "signature INVALID".
//    And a browser without Ed25519 (emulated): "cannot verify in this browser".
// 6. A server with an API key: Start must end at once with the page saying the server requires
//    API keys (and no field asks for one); a session created in Node with the key, pasted into
//    the page's session ID and client token fields, then runs as in 4 (verified, same record).
// 7. Saves BUILD_DIR/test-artifacts/demo_verdict.png (the full run), demo_keys_required.png
//    (step 6's notice) and demo_failed.png when the test fails.
//
// Exit codes: 0 pass, 1 fail, 77 skip (no chromium, ffmpeg, shared data or models).
// Needs playwright-core and jose, devDependencies of web/ (npm ci --prefix web).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Cleanups, decodeJws, reporter, request, startLiveproof, tamperJws } from './harness.mjs';

const CHROMIUM = process.env.LIVEPROOF_CHROMIUM || '/usr/bin/chromium';
const VIDEO_REL = 'data/video/apfol_real2_live_headturn.webm';
const ATTEMPT_TIMEOUT_MS = 120_000;
const SERVER_SETTINGS = {
    challenges: 'LEFT,RIGHT',
    required_successes: '2',
    max_wrong_attempts: '50',
    challenge_timeout: '20',
    session_timeout: '90',
};
const API_KEY_ID = 'demo';
const API_KEY = 'demo-page-secret-0123456789';
const ISSUER = 'liveproof';
const AUDIENCE = 'liveproof-backend';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [bin, buildDir, sharedDir] = process.argv.slice(2);
const { log, skip, die } = reporter('e2e_demo_page');

function hasCommand(cmd) {
    return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

if (!bin || !buildDir || !sharedDir) {
    console.error('usage: node demo_page_test.mjs LIVEPROOF_BIN BUILD_DIR SHARED_DIR');
    process.exit(2);
}
if (!fs.existsSync(bin)) {
    console.error(`liveproof binary not found: ${bin}`);
    process.exit(1);
}
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} not found (apt-get install chromium)`);
if (!hasCommand('ffmpeg')) skip('ffmpeg not found');
const videoIn = path.join(sharedDir, VIDEO_REL);
if (!fs.existsSync(videoIn)) skip(`${videoIn} not found`);
if (!fs.existsSync(path.join(repo, 'models', 'MANIFEST'))) skip('models not installed (models/MANIFEST)');
const webTest = path.join(buildDir, 'web', 'test');
for (const f of ['index.html', 'liveness-client.js']) {
    if (!fs.existsSync(path.join(webTest, f))) {
        console.error(`${path.join(webTest, f)} missing: build the liveproof_web target`);
        process.exit(1);
    }
}
const webRequire = createRequire(path.join(repo, 'web', 'package.json'));
let chromium;
let jose;
try {
    ({ chromium } = webRequire('playwright-core'));
    jose = await import(pathToFileURL(webRequire.resolve('jose')).href);
} catch (e) {
    console.error(`playwright-core or jose is not installed (run npm ci --prefix web): ${e.message}`);
    process.exit(1);
}

const artifacts = path.join(buildDir, 'test-artifacts');
fs.mkdirSync(artifacts, { recursive: true });
const cleanups = new Cleanups(log);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'liveproof-e2e-'));
cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------- the fake camera
function makeY4m() {
    const out = path.join(tmp, 'camera.y4m');
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', videoIn,
                                   '-an', '-pix_fmt', 'yuv420p', '-vf', 'scale=640:480', '-r', '15',
                                   out], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0 || !fs.existsSync(out)) die(`ffmpeg failed (status ${r.status})`);
    return out;
}

// ---------------------------------------------------------------- a tiny static server
function startStaticServer(root) {
    const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
    const server = http.createServer((req, res) => {
        const url = new URL(req.url, 'http://localhost');
        // /demo/<file> -> root/<file>; nothing else.
        const m = /^\/demo\/([A-Za-z0-9._-]*)$/.exec(url.pathname);
        const name = m ? (m[1] || 'index.html') : null;
        const file = name && !name.startsWith('.') ? path.join(root, name) : null;
        if (!file || !fs.existsSync(file)) {
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            res.end('not found');
            return;
        }
        res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream',
                             'Cache-Control': 'no-cache' });
        res.end(fs.readFileSync(file));
    });
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            cleanups.push(() => new Promise((r) => server.close(() => r())));
            resolve(server.address().port);
        });
    });
}

async function waitReady(base) {
    for (let i = 0; i < 600; i++) {
        if ((await request(`${base}/readyz`).catch(() => ({ status: 0 }))).status === 200) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    die(`${base} was not ready within 60 s`);
}

// ---------------------------------------------------------------- the browser
// `expected(url, status)` names the HTTP errors a step provokes on purpose.
async function openPage(browser, url, problems, { expected = () => false, setup } = {}) {
    const context = await browser.newContext({ viewport: { width: 1120, height: 720 },
                                               deviceScaleFactor: 1 });
    if (setup) await setup(context);
    const page = await context.newPage();
    let expectedErrors = 0;
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
        if (m.type() !== 'error') return;
        // Chromium logs every failed request once more on the console.
        if (expectedErrors > 0 && /Failed to load resource/.test(m.text())) {
            expectedErrors--;
            return;
        }
        problems.push(`console error: ${m.text()}`);
    });
    page.on('response', (r) => {
        if (r.status() < 400) return;
        if (expected(r.url(), r.status())) {
            expectedErrors++;
        } else {
            problems.push(`HTTP ${r.status()} for ${r.url()}`);
        }
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
    return { context, page };
}

const phaseOf = (page) => page.evaluate(() => document.body.dataset.phase);
const logOf = (page) => page.evaluate(() => window.__liveproofLog || []);
const liveTracks = (page) => page.evaluate(() => {
    const v = document.getElementById('video');
    return v.srcObject ? v.srcObject.getTracks().filter((t) => t.readyState === 'live').length : 0;
});

async function crossOriginCheck(browser, staticPort, base) {
    const problems = [];
    const url = `http://127.0.0.1:${staticPort}/demo/?server=${encodeURIComponent(base)}`;
    log(`cross-origin check: ${url}`);
    const { context, page } = await openPage(browser, url, problems);
    try {
        await page.click('#start');
        // 'start' plus at least two answers to frames: the socket is open and frames flow.
        await page.waitForFunction(() => {
            const l = window.__liveproofLog || [];
            return l.some((m) => m.type === 'start') && l.filter((m) => m.type !== 'start').length >= 2;
        }, null, { timeout: 30_000 });
        if (await phaseOf(page) !== 'running') die(`cross-origin: phase ${await phaseOf(page)}, not running`);
        const session = await page.evaluate(() => window.__liveproofSession);
        if (!session || session.source !== 'created' || !/^[0-9a-f]{32}$/.test(session.session_id)) {
            die(`cross-origin: the page did not create a session: ${JSON.stringify(session)}`);
        }
        await page.click('#start');  // now "Stop"
        await page.waitForSelector('body[data-phase="idle"]', { timeout: 5_000 });
        const live = await liveTracks(page);
        if (live !== 0) die(`cross-origin: ${live} camera track(s) still live after Stop`);
        if (problems.length) die(`cross-origin: ${problems.join('; ')}`);
        const types = [...new Set((await logOf(page)).map((m) => m.type))];
        log(`cross-origin check passed (session ${session.session_id}, messages: ${types.join(', ')}), ` +
            'Stop released the camera');
    } finally {
        await context.close();
    }
}

// Start, then the end of the run and of the page's signature check.
async function runOnce(page, label) {
    const t0 = Date.now();
    await page.click('#start');
    await page.waitForFunction(
        () => ['verified', 'failed'].includes(document.body.dataset.phase), null,
        { timeout: ATTEMPT_TIMEOUT_MS, polling: 250 }).catch(() => {});
    const phase = await phaseOf(page);
    if (phase === 'verified' || phase === 'failed') {
        await page.waitForFunction(() => !window.__liveproofVerdict ||
                                         window.__liveproofVerdict.signature !== 'checking',
                                   null, { timeout: 15_000 }).catch(() => {});
    }
    const msgs = await logOf(page);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const summary = msgs.filter((m) => !['waiting', 'no_face', 'busy'].includes(m.type))
        .map((m) => m.type === 'challenge' ? `challenge:${m.instruction}`
                                           : m.type === 'failed' ? `failed:${m.reason}` : m.type);
    log(`${label}: phase ${phase} after ${secs} s, ${msgs.length} messages: ${summary.join(' ')}`);
    return {
        phase, msgs, secs,
        session: await page.evaluate(() => window.__liveproofSession || null),
        shown: await page.evaluate(() => window.__liveproofVerdict || null),
    };
}

async function failShot(page) {
    await page.screenshot({ path: path.join(artifacts, 'demo_failed.png'), fullPage: true }).catch(() => {});
}

// What a run of the page must show, whatever the decision; and the independent checks.
async function checkRun(page, run, { label, source, base, headers = {}, jwks }) {
    const { phase, msgs, session, shown } = run;
    if (phase !== 'verified' && phase !== 'failed') die(`${label}: no end within ${ATTEMPT_TIMEOUT_MS / 1000} s (phase ${phase})`);
    if (!session || session.source !== source || !/^[0-9a-f]{32}$/.test(session.session_id)) {
        die(`${label}: the page's session is ${JSON.stringify(session)}, not one ${source} by it`);
    }
    const id = session.session_id;
    const last = [...msgs].reverse().find((m) => m.type === 'complete' || m.type === 'failed');
    if (!last) die(`${label}: no complete/failed message (${await page.textContent('#result-sentence')})`);
    if (last.session_id !== id || typeof last.verdict !== 'string') {
        die(`${label}: the final message has no verdict of session ${id}: ${JSON.stringify(last)}`);
    }
    if (!shown || shown.token !== last.verdict) die(`${label}: the page shows another verdict than it received`);
    const { header, claims } = decodeJws(last.verdict);
    if (header.alg !== 'EdDSA' || claims.sub !== id || claims.mode !== 'active') {
        die(`${label}: verdict header ${JSON.stringify(header)}, sub ${claims.sub}, mode ${claims.mode}`);
    }

    // What the page shows: the decision of the claims, and its own signature check.
    if (!(await page.isVisible('#verdict'))) die(`${label}: the verdict section is not visible`);
    const decisionShown = (await page.textContent('#verdict-decision')).trim();
    if (decisionShown !== claims.decision) die(`${label}: the page shows decision "${decisionShown}", the verdict says "${claims.decision}"`);
    const sigState = await page.getAttribute('#verdict-signature', 'data-state');
    const sigText = await page.textContent('#verdict-signature');
    if (sigState !== 'verified' || !/signature verified/.test(sigText)) {
        die(`${label}: the page's signature check says ${sigState}: "${sigText}"`);
    }
    if (JSON.stringify(JSON.parse(await page.textContent('#verdict-claims'))) !== JSON.stringify(claims)) {
        die(`${label}: the claims shown are not the verdict's`);
    }
    if (JSON.parse(await page.textContent('#verdict-header')).kid !== header.kid) die(`${label}: the header shown is not the verdict's`);
    const live = claims.decision === 'live';
    if (live !== (phase === 'verified') || live !== (last.type === 'complete')) {
        die(`${label}: decision ${claims.decision} but phase ${phase} and final message ${last.type}`);
    }
    const title = await page.textContent('#result-title');
    if (title !== (live ? 'VERIFIED' : 'NOT VERIFIED') || !(await page.isVisible('#result-title'))) {
        die(`${label}: the result title is "${title}" for decision ${claims.decision}`);
    }
    if (live && (await page.textContent('#progress-text')).replace(/\s/g, '') !== '2/2') {
        die(`${label}: live, but progress shows "${await page.textContent('#progress-text')}"`);
    }
    const challenges = msgs.filter((m) => m.type === 'challenge').map((m) => m.instruction);
    if (challenges.some((c) => !['LEFT', 'RIGHT'].includes(c))) die(`${label}: unexpected challenges ${challenges}`);
    if (await liveTracks(page) !== 0) die(`${label}: the camera was not released at the end`);

    // Independent: jose against the server's JWKS; one changed claim breaks it.
    const keySet = jose.createLocalJWKSet(jwks);
    const opts = { algorithms: ['EdDSA'], issuer: ISSUER, audience: AUDIENCE };
    const { payload } = await jose.jwtVerify(last.verdict, keySet, opts)
        .catch((e) => die(`${label}: jose rejects the verdict the page showed: ${e.code} ${e.message}`));
    if (payload.sub !== id || payload.decision !== decisionShown) die(`${label}: jose's claims differ from the page's`);
    const flipped = live ? 'spoof' : 'live';
    const forged = await jose.jwtVerify(tamperJws(last.verdict, 'decision', flipped), keySet, opts)
        .then(() => null, (e) => e);
    if (!forged || forged.code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
        die(`${label}: jose accepted (or refused for another reason) the verdict with decision ${flipped}: ${forged && forged.code}`);
    }

    // The record, server to server, has the same verdict.
    const record = await request(`${base}/v1/sessions/${id}`, { headers });
    if (record.status !== 200) die(`${label}: GET /v1/sessions/${id}: ${record.status} ${JSON.stringify(record.body)}`);
    const r = record.body;
    if (r.verdict !== last.verdict || r.decision !== claims.decision ||
        r.status !== (live ? 'SUCCEEDED' : 'FAILED')) {
        die(`${label}: the record says ${r.status}/${r.decision}, verdict ${r.verdict === last.verdict ? 'same' : 'different'}`);
    }
    log(`${label}: session ${id} ${r.status} ${claims.decision}${claims.reason ? ` (${claims.reason})` : ''}; ` +
        `the page: "${sigText}"; jose verifies it and rejects decision=${flipped}; the record agrees`);
    return { id, claims };
}

async function fullRun(browser, pageUrl, server, jwks) {
    const problems = [];
    log(`full run: ${pageUrl}`);
    const { context, page } = await openPage(browser, pageUrl, problems);
    try {
        const run = await runOnce(page, 'full run');
        try {
            await checkRun(page, run, { label: 'full run', source: 'created', base: server.base, jwks });
            if (problems.length) die(problems.join('; '));
        } catch (e) {
            await failShot(page);
            throw e;
        }
        await page.waitForTimeout(400);  // let the result overlay settle for the picture
        const shot = path.join(artifacts, 'demo_verdict.png');
        await page.screenshot({ path: shot, fullPage: true });
        log(`full run passed; screenshot ${shot}`);
    } finally {
        await context.close();
    }
}

// The page's check must be real: a JWKS with the right kid but another key fails it.
async function forgedKeysRun(browser, pageUrl, jwks) {
    const problems = [];
    const { publicKey } = crypto.generateKeyPairSync('ed25519');
    const other = publicKey.export({ format: 'jwk' });
    const forged = { keys: jwks.keys.map((k) => ({ ...k, x: other.x })) };
    const setup = (context) => context.route((u) => u.pathname === '/.well-known/jwks.json', (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(forged) }));
    log('forged keys: the same run with the JWKS answer replaced by another key of the same kid');
    const { context, page } = await openPage(browser, pageUrl, problems, { setup });
    try {
        const run = await runOnce(page, 'forged keys');
        const state = await page.getAttribute('#verdict-signature', 'data-state');
        const text = await page.textContent('#verdict-signature');
        if (!run.shown || state !== 'invalid' || !/signature INVALID/.test(text) || /signature verified/.test(text)) {
            await failShot(page);
            die(`forged keys: the page says ${state}: "${text}" (a verdict: ${Boolean(run.shown)})`);
        }
        if (problems.length) die(`forged keys: ${problems.join('; ')}`);
        log(`forged keys: the page says "${text}"`);
    } finally {
        await context.close();
    }
}

// A browser without Ed25519 in WebCrypto (emulated: importKey refuses it as older ones do): the
// page must say it cannot verify, not claim either way.
async function noEd25519Run(browser, pageUrl) {
    const problems = [];
    const setup = (context) => context.addInitScript(() => {
        const subtle = globalThis.crypto && globalThis.crypto.subtle;
        if (!subtle) return;
        const importKey = subtle.importKey.bind(subtle);
        subtle.importKey = (format, key, algorithm, ...rest) => {
            const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
            if (name === 'Ed25519') {
                return Promise.reject(new DOMException('Unrecognized algorithm name', 'NotSupportedError'));
            }
            return importKey(format, key, algorithm, ...rest);
        };
    });
    const { context, page } = await openPage(browser, pageUrl, problems, { setup });
    try {
        const run = await runOnce(page, 'no Ed25519');
        const state = await page.getAttribute('#verdict-signature', 'data-state');
        const text = await page.textContent('#verdict-signature');
        if (!run.shown || state !== 'unsupported' || !/cannot verify in this browser/.test(text) ||
            /signature (verified|INVALID)/.test(text)) {
            await failShot(page);
            die(`no Ed25519: the page says ${state}: "${text}" (a verdict: ${Boolean(run.shown)})`);
        }
        if (problems.length) die(`no Ed25519: ${problems.join('; ')}`);
        log(`no Ed25519: the page says "${text}"`);
    } finally {
        await context.close();
    }
}

// A server with API keys: the page says so, then runs a session created by "the backend".
async function keyedRun(browser, server, jwks) {
    const problems = [];
    const pageUrl = `${server.base}/test?challenge_timeout=${SERVER_SETTINGS.challenge_timeout}` +
                    `&session_timeout=${SERVER_SETTINGS.session_timeout}`;
    const expected = (url, status) => status === 401 && new URL(url).pathname === '/v1/sessions';
    log(`API keys: ${pageUrl}`);
    const { context, page } = await openPage(browser, pageUrl, problems, { expected });
    try {
        const labels = await page.$$eval('input', (els) => els.map((e) => (e.closest('label') || {}).textContent || ''));
        if (labels.some((t) => /api.?key/i.test(t))) die(`API keys: the page asks for an API key: ${labels.join(' | ')}`);
        await page.click('#start');
        await page.waitForSelector('body[data-phase="failed"]', { timeout: 15_000 });
        const notice = (await page.textContent('#keys-required')).replace(/\s+/g, ' ');
        if (!(await page.isVisible('#keys-required')) || !/requires API keys/.test(notice) ||
            !/session_id/.test(notice) || !/client_token/.test(notice)) {
            await failShot(page);
            die(`API keys: the page does not say the server needs keys: "${notice}"`);
        }
        if (!(await page.isVisible('#session-id')) || !(await page.isVisible('#client-token'))) {
            die('API keys: the session ID and client token fields are not shown');
        }
        const sentence = await page.textContent('#result-sentence');
        if (await page.textContent('#result-title') !== 'NO SESSION') {
            die(`API keys: the result title is "${await page.textContent('#result-title')}", not NO SESSION`);
        }
        const shot = path.join(artifacts, 'demo_keys_required.png');
        await page.screenshot({ path: shot, fullPage: true });
        log(`API keys: the page says "${sentence}"; screenshot ${shot}`);

        const headers = { 'X-API-KEY': API_KEY, 'Content-Type': 'application/json' };
        const created = await request(`${server.base}/v1/sessions`, {
            method: 'POST', headers, body: JSON.stringify({ mode: 'active' }) });
        if (created.status !== 201) die(`API keys: POST /v1/sessions with the key: ${created.status}`);
        await page.fill('#session-id', created.body.session_id);
        await page.fill('#client-token', created.body.client_token);
        const run = await runOnce(page, 'API keys, pasted session');
        try {
            const { id } = await checkRun(page, run, { label: 'API keys', source: 'pasted', base: server.base,
                                                        headers: { 'X-API-KEY': API_KEY }, jwks });
            if (id !== created.body.session_id) die(`API keys: the page ran ${id}, not the pasted ${created.body.session_id}`);
            if (problems.length) die(`API keys: ${problems.join('; ')}`);
        } catch (e) {
            await failShot(page);
            throw e;
        }
    } finally {
        await context.close();
    }
}

async function main() {
    const t0 = Date.now();
    const y4m = makeY4m();
    log(`fake camera: ${y4m} (${(fs.statSync(y4m).size / 1e6).toFixed(0)} MB)`);
    const staticPort = await startStaticServer(webTest);
    const settings = { ...SERVER_SETTINGS, web_root: path.join(buildDir, 'web') };
    const open = await startLiveproof({
        bin, cleanups, log, logFile: path.join(artifacts, 'demo_page_server.log'),
        settings: { ...settings, cors_origins: `http://127.0.0.1:${staticPort}` },
    });
    log(`liveproof on ${open.base}, static page server on 127.0.0.1:${staticPort}`);
    await waitReady(open.base);
    const jwks = (await request(`${open.base}/.well-known/jwks.json`)).body;
    if (!Array.isArray(jwks.keys) || !jwks.keys.length) die(`no JWKS: ${JSON.stringify(jwks)}`);

    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
               '--disable-component-update', '--disable-sync', '--no-first-run',
               '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
               `--use-file-for-fake-video-capture=${y4m}`],
    });
    cleanups.push(() => browser.close());

    await crossOriginCheck(browser, staticPort, open.base);
    const pageUrl = `${open.base}/test?challenge_timeout=${SERVER_SETTINGS.challenge_timeout}` +
                    `&session_timeout=${SERVER_SETTINGS.session_timeout}`;
    if (await request(`${open.base}/test`).then((r) => r.status) !== 200) die('GET /test is not served');
    await fullRun(browser, pageUrl, open, jwks);
    await forgedKeysRun(browser, pageUrl, jwks);
    await noEd25519Run(browser, pageUrl);

    const keyed = await startLiveproof({
        bin, cleanups, log, logFile: path.join(artifacts, 'demo_page_server_keys.log'),
        args: ['--api-key', `${API_KEY_ID}:${API_KEY}`], settings,
    });
    await waitReady(keyed.base);
    const keyedJwks = (await request(`${keyed.base}/.well-known/jwks.json`)).body;
    await keyedRun(browser, keyed, keyedJwks);
    log(`PASS (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

try {
    await main();
} catch (e) {
    if (!process.exitCode) {
        console.error(`[e2e_demo_page] FAIL: ${e.stack || e.message}`);
        process.exitCode = 1;
    }
} finally {
    await cleanups.run();
}
