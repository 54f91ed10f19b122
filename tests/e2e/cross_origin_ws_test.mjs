#!/usr/bin/env node
// System A's layouts in a real browser (headless Chromium): a page on another port than the
// server (A's test_client on :8443, the server on :8001; a page that embeds the client) and a
// file:// page open the anonymous WebSocket /ws.
//
// Usage: node tests/e2e/cross_origin_ws_test.mjs LIVEPROOF_BIN BUILD_DIR
//
// 1. A server with the default (same origin only): the browser's WebSocket gets a close event
//    with code 1008 and a reason naming the setting (cors_origins), never only "connection
//    error"; web/liveness-client.js turns it into the failure {reason: "origin_not_allowed"}
//    with that text; the server's log names the Origin and the setting. The same for file://.
// 2. The same server started with cors_origins = the page's origin: the socket opens and the
//    first message is A's "start".
//
// Exit codes: 0 pass, 1 fail, 77 skip (no chromium). Needs playwright-core (web/node_modules).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { Cleanups, reporter, startLiveproof } from './harness.mjs';

const CHROMIUM = process.env.LIVEPROOF_CHROMIUM || '/usr/bin/chromium';
const { log, skip, die } = reporter('e2e_cross_origin_ws');
const [bin, buildDir] = process.argv.slice(2);
if (!bin || !buildDir) die('usage: cross_origin_ws_test.mjs LIVEPROOF_BIN BUILD_DIR');
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} not found (apt-get install chromium)`);
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');
const cleanups = new Cleanups(log);
const artifacts = path.join(buildDir, 'test-artifacts');
fs.mkdirSync(artifacts, { recursive: true });

// The page: A's way (a raw WebSocket, as its test_client) and liveness-client.js's way, each
// recording what the browser reports. ?server=ws://... names the server.
const client = fs.readFileSync(path.join(buildDir, 'web/test/liveness-client.js'), 'utf8');
const page = `<!doctype html><meta charset="utf-8"><title>A-style client</title>
<video id="video" muted playsinline></video>
<script type="module">
const server = new URLSearchParams(location.search).get('server');
window.__raw = new Promise((resolve) => {
  const ws = new WebSocket(server + '/ws');
  const seen = { messages: [] };
  ws.onerror = () => { seen.error = true; };
  ws.onmessage = (e) => { seen.messages.push(JSON.parse(e.data).type); ws.close(); };
  ws.onclose = (e) => resolve({ ...seen, code: e.code, reason: e.reason });
});
window.__client = (async () => {
  // The client's source is inlined (a file:// page may not import another file).
  const source = ${JSON.stringify(client).replace(/</g, '\\u003c')};
  const { LivenessCheck } = await import(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  return new Promise((resolve) => {
    const check = new LivenessCheck({ url: server + '/ws', video: document.getElementById('video'),
      onFailed: (f) => resolve({ reason: f.reason, message: f.message, server: f.server }),
      onMessage: (m) => { if (m.type === 'start') { check.stop(); resolve({ started: true }); } } });
    check.start().catch((f) => resolve({ reason: f.reason, message: f.message, server: f.server }));
  });
})();
</script>`;
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'liveproof-xorigin-'));
cleanups.push(() => fs.rmSync(folder, { recursive: true, force: true }));
fs.writeFileSync(path.join(folder, 'index.html'), page);

function startStatic() {
    const server = http.createServer((req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(fs.readFileSync(path.join(folder, 'index.html')));
    });
    cleanups.push(() => new Promise((r) => server.close(r)));
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

async function visit(browser, url) {
    const context = await browser.newContext();
    try {
        const p = await context.newPage();
        await p.goto(url, { waitUntil: 'load' });
        const raw = await p.evaluate(() => window.__raw);
        const viaClient = await p.evaluate(() => window.__client);
        return { raw, viaClient };
    } finally {
        await context.close();
    }
}

function expectRefused(what, got, logText, origin) {
    const { raw, viaClient } = got;
    if (raw.code !== 1008) die(`${what}: close code ${raw.code}, not 1008 (${JSON.stringify(raw)})`);
    if (!raw.reason.startsWith('origin_not_allowed') || !raw.reason.includes('cors_origins')) {
        die(`${what}: close reason ${JSON.stringify(raw.reason)} does not name the setting`);
    }
    if (raw.messages.length) die(`${what}: the refused socket delivered ${raw.messages}`);
    if (viaClient.reason !== 'origin_not_allowed' || !viaClient.message.includes('cors_origins')) {
        die(`${what}: liveness-client.js reported ${JSON.stringify(viaClient)}`);
    }
    if (!logText().includes(`WebSocket from Origin "${origin}" refused`) || !logText().includes('cors_origins')) {
        die(`${what}: the server log does not name the Origin ${origin} and the setting`);
    }
    log(`${what}: close 1008 "${raw.reason}"; client: ${viaClient.reason}`);
}

async function main() {
    const staticPort = await startStatic();
    const origin = `http://127.0.0.1:${staticPort}`;
    const browser = await chromium.launch({
        executablePath: CHROMIUM, headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
               '--use-fake-ui-for-media-stream', '--allow-file-access-from-files'],
    });
    cleanups.push(() => browser.close());

    const logFile = path.join(artifacts, 'cross_origin_server.log');
    const strict = await startLiveproof({ bin, cleanups, log, logFile, settings: {} });
    const wsBase = strict.base.replace('http://', 'ws://');
    const logText = () => fs.readFileSync(logFile, 'utf8');
    expectRefused('page on another port', await visit(browser, `${origin}/?server=${wsBase}`),
                  logText, origin);
    expectRefused('file:// page', await visit(browser,
        `${pathToFileURL(path.join(folder, 'index.html'))}?server=${wsBase}`), logText, 'file://');

    const open = await startLiveproof({ bin, cleanups, log,
        logFile: path.join(artifacts, 'cross_origin_server_open.log'),
        settings: { cors_origins: origin } });
    const got = await visit(browser, `${origin}/?server=${open.base.replace('http://', 'ws://')}`);
    if (got.raw.messages[0] !== 'start') die(`with cors_origins: ${JSON.stringify(got.raw)}`);
    if (!got.viaClient.started) die(`with cors_origins, liveness-client.js: ${JSON.stringify(got.viaClient)}`);
    log('with cors_origins set to the page origin: the socket opens with "start"');
    log('PASS');
}

try {
    await main();
} catch (e) {
    if (!process.exitCode) {
        console.error(`[e2e_cross_origin_ws] FAIL: ${e.stack || e.message}`);
        process.exitCode = 1;
    }
} finally {
    await cleanups.run();
}
