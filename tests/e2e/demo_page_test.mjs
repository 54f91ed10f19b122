#!/usr/bin/env node
// End-to-end test of the demo page (web/test.html + web/liveness-client.js) in headless
// Chromium against the real `liveproof serve` with the real models.
//
// Usage: node tests/e2e/demo_page_test.mjs LIVEPROOF_BIN BUILD_DIR SHARED_DIR
//
// 1. Converts SHARED_DIR/data/video/apfol_real2_live_headturn.webm (a real person who turns
//    left and right on their own) to a .y4m in a temporary folder, which Chromium's fake
//    camera plays in a loop (--use-file-for-fake-video-capture).
// 2. Starts the server on 127.0.0.1 with a free port and looser timing only (challenges
//    LEFT,RIGHT, 2 successes, 50 wrong moves allowed, 20 s per move, 90 s per session); the pose
//    thresholds stay at their defaults.
// 3. Cross-origin check: the page from a tiny static server on another port, pointed at the
//    server with ?server=ws://.../ws, must connect and get answers; then Stop must tear down.
// 4. The full run: the page as served by liveproof at GET /test (or, if that route is absent,
//    from the static server with ?server=), Start, then wait (at most 120 s per attempt) for
//    the VERIFIED state. One more attempt is allowed only after a timing failure (timeout,
//    challenge_timeout, idle_timeout), which the machine's load can cause; any other failure
//    (e.g. spoof_detected) fails the test at once.
// 5. Saves BUILD_DIR/test-artifacts/demo_verified.png (demo_failed.png on failure).
//
// Exit codes: 0 pass, 1 fail, 77 skip (no chromium, ffmpeg, shared data or models).
// Needs playwright-core, a devDependency of web/ (npm ci --prefix web).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const CHROMIUM = process.env.LIVEPROOF_CHROMIUM || '/usr/bin/chromium';
const VIDEO_REL = 'data/video/apfol_real2_live_headturn.webm';
const ATTEMPT_TIMEOUT_MS = 120_000;
const SERVER_START_TIMEOUT_MS = 60_000;
const SERVER_SETTINGS = {
    challenges: 'LEFT,RIGHT',
    required_successes: '2',
    max_wrong_attempts: '50',
    challenge_timeout: '20',
    session_timeout: '90',
};
const RETRYABLE = new Set(['timeout', 'challenge_timeout', 'idle_timeout']);

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [bin, buildDir, sharedDir] = process.argv.slice(2);

function log(...args) {
    console.log('[e2e_demo_page]', ...args);
}
function skip(why) {
    console.log(`[e2e_demo_page] SKIP: ${why}`);
    process.exit(SKIP);
}
function die(why) {
    console.error(`[e2e_demo_page] FAIL: ${why}`);
    process.exitCode = 1;
    throw new Error(why);
}
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
let chromium;
try {
    ({ chromium } = createRequire(path.join(repo, 'web', 'package.json'))('playwright-core'));
} catch (e) {
    console.error(`playwright-core is not installed (run npm ci --prefix web): ${e.message}`);
    process.exit(1);
}

const artifacts = path.join(buildDir, 'test-artifacts');
fs.mkdirSync(artifacts, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'liveproof-e2e-'));
const cleanups = [];
const cleanup = async () => {
    while (cleanups.length) {
        try {
            await cleanups.pop()();
        } catch (e) {
            log(`cleanup: ${e.message}`);
        }
    }
};
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
        await cleanup();
        process.exit(1);
    });
}
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

// ---------------------------------------------------------------- the liveproof server
function startLiveproof(extraSettings) {
    const env = { ...process.env };
    for (const k of Object.keys(env)) {
        if (k.startsWith('LIVEPROOF_') || ['API_KEY', 'MODEL_PATH', 'CONFIDENCE_THRESHOLD'].includes(k)) {
            delete env[k];
        }
    }
    // Each server its own session store and signing keys (a temp dir under the artifacts).
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liveproof-e2e-data-'));
    const settings = { ...SERVER_SETTINGS, web_root: path.join(buildDir, 'web'), data_dir: dataDir,
                       ...extraSettings };
    const args = ['serve', '--host', '127.0.0.1', '--port', '0'];
    for (const [k, v] of Object.entries(settings)) args.push('--set', `${k}=${v}`);
    log(`starting ${bin} ${args.join(' ')}`);
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const serverLog = fs.createWriteStream(path.join(artifacts, 'demo_page_server.log'));
    let exited = false;
    child.on('exit', () => { exited = true; });
    cleanups.push(() => new Promise((resolve) => {
        if (exited) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', (code, sig) => {
            clearTimeout(kill);
            log(`server exited (${sig || code})`);
            serverLog.end();
            resolve();
        });
        child.kill('SIGTERM');
    }));
    return new Promise((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error('server did not report listening in time')),
                                 SERVER_START_TIMEOUT_MS);
        const onData = (chunk) => {
            serverLog.write(chunk);
            text += chunk.toString();
            const m = /listening on ([0-9.]+):(\d+)/.exec(text);
            if (m) {
                clearTimeout(timer);
                text = '';
                resolve({ host: m[1], port: Number(m[2]) });
            }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`server exited with ${code} before listening`));
        });
    });
}

function httpStatus(url) {
    return new Promise((resolve) => {
        http.get(url, (res) => {
            res.resume();
            resolve(res.statusCode);
        }).on('error', () => resolve(0));
    });
}

// ---------------------------------------------------------------- the browser
async function openPage(browser, url, problems) {
    const context = await browser.newContext({ viewport: { width: 1120, height: 720 },
                                               deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
    return { context, page };
}

const phaseOf = (page) => page.evaluate(() => document.body.dataset.phase);
const logOf = (page) => page.evaluate(() => window.__liveproofLog || []);

async function crossOriginCheck(browser, staticPort, wsUrl) {
    const problems = [];
    const url = `http://127.0.0.1:${staticPort}/demo/?server=${encodeURIComponent(wsUrl)}`;
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
        await page.click('#start');  // now "Stop"
        await page.waitForSelector('body[data-phase="idle"]', { timeout: 5_000 });
        const live = await page.evaluate(() => {
            const v = document.getElementById('video');
            return v.srcObject ? v.srcObject.getTracks().filter((t) => t.readyState === 'live').length : 0;
        });
        if (live !== 0) die(`cross-origin: ${live} camera track(s) still live after Stop`);
        if (problems.length) die(`cross-origin: ${problems.join('; ')}`);
        const types = [...new Set((await logOf(page)).map((m) => m.type))];
        log(`cross-origin check passed (messages: ${types.join(', ')}), Stop released the camera`);
    } finally {
        await context.close();
    }
}

async function fullRun(browser, pageUrl) {
    const problems = [];
    log(`full run: ${pageUrl}`);
    const { context, page } = await openPage(browser, pageUrl, problems);
    try {
        for (let attempt = 1; attempt <= 2; attempt++) {
            const t0 = Date.now();
            await page.click('#start');
            await page.waitForFunction(
                () => ['verified', 'failed'].includes(document.body.dataset.phase), null,
                { timeout: ATTEMPT_TIMEOUT_MS, polling: 250 }).catch(() => {});
            const phase = await phaseOf(page);
            const msgs = await logOf(page);
            const secs = ((Date.now() - t0) / 1000).toFixed(1);
            const summary = msgs.filter((m) => !['waiting', 'no_face', 'busy'].includes(m.type))
                .map((m) => m.type === 'challenge' ? `challenge:${m.instruction}`
                                                   : m.type === 'failed' ? `failed:${m.reason}` : m.type);
            log(`attempt ${attempt}: phase ${phase} after ${secs} s, ${msgs.length} messages: ${summary.join(' ')}`);
            if (phase === 'verified') {
                const title = await page.textContent('#result-title');
                if (title !== 'VERIFIED') die(`result title is "${title}", not VERIFIED`);
                if (!(await page.isVisible('#result-title'))) die('the VERIFIED title is not visible');
                const last = msgs[msgs.length - 1];
                if (!last || last.type !== 'complete' || last.live !== true) {
                    die(`the last message is ${JSON.stringify(last)}, not complete/live`);
                }
                const progress = await page.textContent('#progress-text');
                if (progress.replace(/\s/g, '') !== '2/2') die(`progress shows "${progress}", not 2 / 2`);
                const challenges = msgs.filter((m) => m.type === 'challenge').map((m) => m.instruction);
                if (challenges.some((c) => !['LEFT', 'RIGHT'].includes(c))) die(`unexpected challenges ${challenges}`);
                // The camera is released at the end.
                const live = await page.evaluate(() => {
                    const v = document.getElementById('video');
                    return v.srcObject ? v.srcObject.getTracks().length : 0;
                });
                if (live !== 0) die('the camera was not released after VERIFIED');
                if (problems.length) die(problems.join('; '));
                await page.waitForTimeout(400);  // let the result overlay settle for the picture
                const shot = path.join(artifacts, 'demo_verified.png');
                await page.screenshot({ path: shot, fullPage: true });
                log(`VERIFIED; screenshot ${shot}`);
                return;
            }
            const failedMsg = msgs.find((m) => m.type === 'failed');
            await page.screenshot({ path: path.join(artifacts, 'demo_failed.png'), fullPage: true });
            if (phase === 'failed') {
                const sentence = await page.textContent('#result-sentence');
                log(`failed: ${failedMsg ? failedMsg.reason : 'client-side'}: "${sentence}"`);
                if (failedMsg && RETRYABLE.has(failedMsg.reason) && attempt < 2) {
                    log('a timing failure: one more attempt (the button now says Retry)');
                    continue;
                }
                die(`the page failed: ${failedMsg ? failedMsg.reason : 'client-side'}; ${problems.join('; ')}`);
            }
            die(`no verdict within ${ATTEMPT_TIMEOUT_MS / 1000} s (phase ${phase}); ${problems.join('; ')}`);
        }
    } finally {
        await context.close();
    }
}

async function main() {
    const y4m = makeY4m();
    log(`fake camera: ${y4m} (${(fs.statSync(y4m).size / 1e6).toFixed(0)} MB)`);
    const staticPort = await startStaticServer(webTest);
    const { host, port } = await startLiveproof({ cors_origins: `http://127.0.0.1:${staticPort}` });
    const wsUrl = `ws://${host}:${port}/ws`;
    log(`liveproof on ${host}:${port}, static page server on 127.0.0.1:${staticPort}`);

    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
               '--disable-component-update', '--disable-sync', '--no-first-run',
               '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
               `--use-file-for-fake-video-capture=${y4m}`],
    });
    cleanups.push(() => browser.close());

    await crossOriginCheck(browser, staticPort, wsUrl);

    const timing = `challenge_timeout=${SERVER_SETTINGS.challenge_timeout}` +
                   `&session_timeout=${SERVER_SETTINGS.session_timeout}`;
    const routed = await httpStatus(`http://${host}:${port}/test`) === 200 &&
                   await httpStatus(`http://${host}:${port}/test/liveness-client.js`) === 200;
    const pageUrl = routed
        ? `http://${host}:${port}/test?${timing}`
        : `http://127.0.0.1:${staticPort}/demo/?server=${encodeURIComponent(wsUrl)}&${timing}`;
    if (!routed) log('GET /test is not served by this liveproof build: using the static server');
    await fullRun(browser, pageUrl);
    log('PASS');
}

try {
    await main();
} catch (e) {
    if (!process.exitCode) {
        console.error(`[e2e_demo_page] FAIL: ${e.stack || e.message}`);
        process.exitCode = 1;
    }
} finally {
    await cleanup();
}
