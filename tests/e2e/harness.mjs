// Shared by the Node end-to-end tests (tests/e2e/*_test.mjs): logging with the test's tag, the
// skip/fail exit codes, cleanups that run in reverse order (also on SIGINT/SIGTERM), and a real
// `liveproof serve` on 127.0.0.1 with a free port, a fresh data dir and its log in a file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SKIP = 77;
const SERVER_START_TIMEOUT_MS = 60_000;

export function reporter(tag) {
    const log = (...args) => console.log(`[${tag}]`, ...args);
    return {
        log,
        skip(why) {
            console.log(`[${tag}] SKIP: ${why}`);
            process.exit(SKIP);
        },
        // Marks the test failed and throws, so the caller's finally runs the cleanups.
        die(why) {
            console.error(`[${tag}] FAIL: ${why}`);
            process.exitCode = 1;
            throw new Error(why);
        },
    };
}

export class Cleanups {
    constructor(log) {
        this.log = log;
        this.steps = [];
        for (const sig of ['SIGINT', 'SIGTERM']) {
            process.on(sig, async () => {
                await this.run();
                process.exit(1);
            });
        }
    }

    push(step) {
        this.steps.push(step);
    }

    async run() {
        while (this.steps.length) {
            try {
                await this.steps.pop()();
            } catch (e) {
                this.log(`cleanup: ${e.message}`);
            }
        }
    }
}

/**
 * Starts `BIN serve --host 127.0.0.1 --port 0 [args] --set k=v...` with the LIVEPROOF_* and
 * seed variables removed from the environment and its own data_dir (removed at cleanup).
 * Resolves to {host, port, base, dataDir} once the server logs "listening on".
 */
export function startLiveproof({ bin, args = [], settings = {}, logFile, cleanups, log }) {
    const env = { ...process.env };
    for (const k of Object.keys(env)) {
        if (k.startsWith('LIVEPROOF_') || ['API_KEY', 'MODEL_PATH', 'CONFIDENCE_THRESHOLD', 'ENABLE_METRICS', 'PORT', 'FACESDK_PORT',
                                                 'FACESDK_BIND_HOST'].includes(k)) {
            delete env[k];
        }
    }
    // Each server its own session store and signing keys.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liveproof-e2e-data-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const argv = ['serve', '--host', '127.0.0.1', '--port', '0', ...args];
    for (const [k, v] of Object.entries({ data_dir: dataDir, ...settings })) argv.push('--set', `${k}=${v}`);
    log(`starting ${bin} ${argv.join(' ').replace(/(--api-key \S+?:)\S+/g, '$1***')}`);
    const child = spawn(bin, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const serverLog = fs.createWriteStream(logFile);
    let exited = false;
    child.on('exit', () => { exited = true; });
    cleanups.push(() => new Promise((resolve) => {
        if (exited) {
            serverLog.end();
            return resolve();
        }
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
            if (text === null) return;
            text += chunk.toString();
            const m = /listening on ([0-9.]+):(\d+)/.exec(text);
            if (m) {
                clearTimeout(timer);
                text = null;
                const port = Number(m[2]);
                resolve({ host: m[1], port, base: `http://${m[1]}:${port}`, dataDir });
            }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`server exited with ${code} before listening (log: ${logFile})`));
        });
    });
}

/** fetch() that answers {status, body (parsed JSON, or the text), headers}; never throws on HTTP errors. */
export async function request(url, { method = 'GET', headers = {}, body } = {}) {
    const r = await fetch(url, { method, headers, body });
    const text = await r.text();
    let parsed = text;
    try {
        parsed = JSON.parse(text);
    } catch {
        // not JSON: keep the text
    }
    return { status: r.status, body: parsed, headers: r.headers };
}

/** The decoded header and claims of a compact JWS (no verification). */
export function decodeJws(token) {
    const [h, p] = token.split('.');
    return { header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** The same JWS with one claim changed and the original signature kept. */
export function tamperJws(token, claim, value) {
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    claims[claim] = value;
    return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}
