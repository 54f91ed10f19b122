// liveness-client.js: a dependency-free browser client for liveproof's WebSocket head-pose
// challenge: a liveness session's door (WS /v1/sessions/{id}/ws?token=, docs/sessions.md) or
// system A's anonymous door (WS /ws). Copy this file into your own page; it has no imports and
// needs no build step.
//
//   import { LivenessCheck } from './liveness-client.js';
//   // session_id, client_token and ws_url come from your backend, which created the session
//   // with its API key (POST /v1/sessions); the browser never holds an API key.
//   const check = new LivenessCheck({
//       url: session.ws_url,              // wss://liveness.example.com/v1/sessions/<id>/ws
//       token: session.client_token,      // sent as ?token=
//       video: document.querySelector('video'),
//       onMessage: (m) => console.log(m.type, m.instruction),
//       onComplete: (m) => sendToBackend(m.session_id, m.verdict),
//       onFailed: (f) => console.log('failed:', f.reason, f.message),
//   });
//   await check.start();   // camera, then the socket; frames flow until complete/failed
//   check.stop();          // at any time: closes the socket, stops the camera
//
// Protocol (the server drives it): the server sends `start` when the socket opens; the client
// sends {"frame": "<base64 JPEG, no data: prefix>"}; the server answers each frame with one of
// waiting, challenge, success, no_face or error, and the client sends the next frame
// 150 ms after each answer (stop-and-wait, as system A's clients do). The session ends with
// `complete` (live: true) or `failed` (reason: timeout, challenge_timeout, wrong_attempts,
// spoof_detected, multiple_faces, face_changed, idle_timeout; on a session's door also
// too_fast, injection_suspected), after which the server closes. On a session's door both
// also carry `session_id` and `verdict`, the server-signed result (a compact JWS, EdDSA): hand
// it to your backend, which verifies it (or reads the session) before trusting the outcome.
//
// Frames are drawn from the <video> WITHOUT flipping. Mirror the preview for the user with CSS
// only (`transform: scaleX(-1)` on the <video>). LEFT then means the user's own left, which
// is screen-left in the mirrored preview.

/**
 * A server message, parsed from JSON. `type` is one of start, waiting, challenge, success,
 * no_face, complete, failed, error. Pose messages carry `state`, `instruction`
 * (CENTER, LEFT, RIGHT, UP, DOWN, BLINK or VERIFIED), `yaw`, `pitch`, `success`, `total`;
 * on a session's door, `complete` and `failed` also carry `session_id` and `verdict`.
 * @typedef {{type: string, state?: string, instruction?: string, yaw?: number, pitch?: number,
 *            success?: number, total?: number, live?: boolean, reason?: string,
 *            message?: string, wrong_direction?: (string|null), session_id?: string,
 *            verdict?: string}} LivenessMessage
 */

/**
 * Why a check ended without `complete`. `reason` is the server's (timeout, challenge_timeout,
 * wrong_attempts, spoof_detected, multiple_faces, face_changed, idle_timeout) or one of the
 * client's own: camera_error (no camera or permission denied), connection_failed (the socket
 * never opened: wrong URL, server down, refused API key or Origin, too many sessions),
 * connection_closed (the socket closed before a verdict).
 * @typedef {{reason: string, message: string, server: boolean, detail?: *}} LivenessFailure
 */

/** Client status values passed to `onStatus`. */
export const Status = Object.freeze({
    CAMERA: 'camera',          // asking for the camera
    CONNECTING: 'connecting',  // camera on, opening the socket
    RUNNING: 'running',        // socket open, frames flowing
    COMPLETE: 'complete',      // verified live
    FAILED: 'failed',          // ended without a verdict of live
    STOPPED: 'stopped',        // stop() was called
});

const TERMINAL = new Set(['complete', 'failed']);

/**
 * One liveness check: the camera, the WebSocket and the stop-and-wait frame loop.
 * An instance runs once at a time; call start() again after it ends to retry.
 */
export class LivenessCheck {
    /**
     * @param {object} options
     * @param {string} options.url WebSocket URL of the challenge: a session's `ws_url`
     *     (`wss://host/v1/sessions/<id>/ws`) or the anonymous `wss://host/ws`.
     * @param {HTMLVideoElement} options.video Element that shows the camera (mirror it with CSS).
     * @param {HTMLCanvasElement} [options.canvas] Canvas used to encode frames (one is created
     *     off-screen if omitted).
     * @param {string} [options.token] A session's `client_token`, sent as `?token=` (browsers
     *     cannot set WebSocket headers).
     * @param {string} [options.apiKey] For the anonymous `/ws` only: sent as `?api_key=`. Never
     *     put an API key in a page that strangers load; use a session and its token instead.
     * @param {boolean} [options.mirrored=false] Adds `?mirrored=1`: set it ONLY if your camera
     *     delivers mirrored pixels (this client never flips frames itself).
     * @param {(m: LivenessMessage) => void} [options.onMessage] Every server message, in order.
     * @param {(status: string, detail?: *) => void} [options.onStatus] Client status changes
     *     (see {@link Status}).
     * @param {(m: LivenessMessage) => void} [options.onComplete] The `complete` message (live).
     * @param {(f: LivenessFailure) => void} [options.onFailed] The end without `complete`.
     * @param {number} [options.jpegQuality=0.6] JPEG quality, 0..1 (system A uses 0.6).
     * @param {number} [options.width=640] Camera width asked for, and the frame width cap.
     * @param {number} [options.height=480] Camera height asked for, and the frame height cap.
     * @param {number} [options.frameDelayMs=150] Pause between an answer and the next frame.
     * @param {number} [options.replyTimeoutMs=4000] Send another frame if no answer came in this
     *     long (the server keeps only the latest frame, so this never piles up).
     */
    constructor({url, video, canvas, token, apiKey, mirrored = false, onMessage, onStatus, onComplete,
                 onFailed, jpegQuality = 0.6, width = 640, height = 480, frameDelayMs = 150,
                 replyTimeoutMs = 4000} = {}) {
        if (!url) throw new TypeError('LivenessCheck: url is required');
        if (!video) throw new TypeError('LivenessCheck: video is required');
        this.url = url;
        this.video = video;
        this.canvas = canvas || document.createElement('canvas');
        this.token = token || '';
        this.apiKey = apiKey || '';
        this.mirrored = Boolean(mirrored);
        this.jpegQuality = jpegQuality;
        this.width = width;
        this.height = height;
        this.frameDelayMs = frameDelayMs;
        this.replyTimeoutMs = replyTimeoutMs;
        this._on = {
            message: onMessage || (() => {}),
            status: onStatus || (() => {}),
            complete: onComplete || (() => {}),
            failed: onFailed || (() => {}),
        };
        this._stream = null;
        this._ws = null;
        this._timer = null;     // next frame
        this._watchdog = null;  // no answer in time
        this._run = 0;          // bumps on every start/stop: callbacks of an old run are ignored
        this._settle = null;    // resolves start() if the run ends before the socket opens
        this._ended = true;
    }

    /** @returns {boolean} true while a check is in progress. */
    get running() {
        return !this._ended;
    }

    /**
     * Starts a check: opens the camera (width x height, front camera), then the WebSocket, then
     * sends frames until the server says complete or failed. Resolves once the socket is open.
     * On a camera or connection error it calls onFailed, cleans up, and rejects with the same
     * LivenessFailure.
     * @returns {Promise<void>}
     */
    async start() {
        this._teardown();
        const run = ++this._run;
        this._ended = false;
        this._status(Status.CAMERA);
        try {
            if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
                throw new Error('this browser has no camera API (a secure context, https or ' +
                                'localhost, is required)');
            }
            const stream = await navigator.mediaDevices.getUserMedia({
                audio: false,
                video: {width: {ideal: this.width}, height: {ideal: this.height},
                        facingMode: 'user'},
            });
            if (run !== this._run) {  // stopped while the permission prompt was open
                stream.getTracks().forEach((t) => t.stop());
                return;
            }
            this._stream = stream;
            const v = this.video;
            v.muted = true;
            v.playsInline = true;
            v.setAttribute('playsinline', '');
            v.srcObject = stream;
            await v.play();
            if (!v.videoWidth) {
                await new Promise((resolve) => v.addEventListener('loadeddata', resolve,
                                                                  {once: true}));
            }
        } catch (e) {
            if (run !== this._run) return;
            const failure = {reason: 'camera_error', server: false, detail: e,
                             message: `Camera unavailable: ${e && e.message ? e.message : e}`};
            this._fail(failure);
            throw failure;
        }
        if (run !== this._run) return;
        this._status(Status.CONNECTING);
        await this._connect(run);
    }

    /** Ends the check now: no callbacks after this, socket closed, camera tracks stopped. */
    stop() {
        const wasRunning = !this._ended;
        this._run++;
        this._teardown();
        if (wasRunning) this._status(Status.STOPPED);
    }

    /** @returns {string} the WebSocket URL with token, api_key and mirrored added. */
    socketUrl() {
        const u = new URL(this.url, typeof location !== 'undefined' ? location.href : undefined);
        if (u.protocol === 'http:') u.protocol = 'ws:';
        if (u.protocol === 'https:') u.protocol = 'wss:';
        if (this.token) u.searchParams.set('token', this.token);
        if (this.apiKey) u.searchParams.set('api_key', this.apiKey);
        if (this.mirrored) u.searchParams.set('mirrored', '1');
        return u.toString();
    }

    _connect(run) {
        return new Promise((resolve, reject) => {
            this._settle = resolve;
            let opened = false;
            let ws;
            try {
                ws = new WebSocket(this.socketUrl());
            } catch (e) {
                const failure = {reason: 'connection_failed', server: false, detail: e,
                                 message: `Cannot open ${this.url}: ${e.message}`};
                this._settle = null;
                reject(failure);
                this._fail(failure);
                return;
            }
            this._ws = ws;
            ws.onopen = () => {
                if (run !== this._run) return;
                opened = true;
                this._settle = null;
                resolve();
                this._status(Status.RUNNING);
                this._sendFrame(run);
            };
            ws.onmessage = (event) => {
                if (run !== this._run) return;
                let msg;
                try {
                    msg = JSON.parse(event.data);
                } catch {
                    return;  // not ours to judge; the server only sends JSON
                }
                this._onServerMessage(run, msg);
            };
            ws.onclose = (event) => {
                if (run !== this._run || this._ended) return;
                // 1008 with a reason: the server refused this page (e.g. origin_not_allowed,
                // naming the setting that would let it in). Its code comes before the ':'.
                const refused = event.code === 1008 && event.reason;
                const failure = refused
                    ? {reason: event.reason.split(':')[0], server: true, detail: event.code,
                       message: `The server refused this page: ${event.reason}.`}
                    : opened
                    ? {reason: 'connection_closed', server: false, detail: event.code,
                       message: `The connection closed before a result (code ${event.code}).`}
                    : {reason: 'connection_failed', server: false, detail: event.code,
                       message: `Could not connect to ${this.url} (server down, wrong URL, ` +
                                'refused token, API key or origin, a used or expired session, ' +
                                'or too many sessions).'};
                if (!opened) {
                    this._settle = null;
                    reject(failure);
                }
                this._fail(failure);
            };
            // onerror is always followed by onclose, which reports it.
        });
    }

    _onServerMessage(run, msg) {
        clearTimeout(this._watchdog);
        this._watchdog = null;
        this._on.message(msg);
        if (run !== this._run) return;  // the handler called stop()
        if (msg.type === 'complete') {
            this._end(Status.COMPLETE);
            this._on.complete(msg);
            return;
        }
        if (msg.type === 'failed') {
            this._fail({reason: msg.reason || 'timeout', message: msg.message || '',
                        server: true, detail: msg});
            return;
        }
        if (TERMINAL.has(msg.type)) return;
        // start, waiting, challenge, success, no_face, error: the next frame after a
        // pause. 'start' arrives right after open, when the first frame is already on its way.
        if (msg.type === 'start') return;
        this._schedule(run, this.frameDelayMs);
    }

    _schedule(run, delay) {
        clearTimeout(this._timer);
        this._timer = setTimeout(() => this._sendFrame(run), delay);
    }

    async _sendFrame(run) {
        this._timer = null;
        if (run !== this._run || this._ended) return;
        const ws = this._ws;
        if (!ws || ws.readyState !== WebSocket.OPEN) return;
        let b64 = null;
        try {
            b64 = await this._captureJpegBase64();
        } catch {
            b64 = null;  // e.g. the video has no frame yet: try again shortly
        }
        if (run !== this._run || this._ended || ws.readyState !== WebSocket.OPEN) return;
        if (!b64) {
            this._schedule(run, this.frameDelayMs);
            return;
        }
        ws.send(JSON.stringify({frame: b64}));
        clearTimeout(this._watchdog);
        this._watchdog = setTimeout(() => {
            this._watchdog = null;
            if (run === this._run && !this._ended && this._timer === null) this._sendFrame(run);
        }, this.replyTimeoutMs);
    }

    /** The current video frame, unflipped, as base64 JPEG without the data: prefix. */
    async _captureJpegBase64() {
        const v = this.video;
        const vw = v.videoWidth;
        const vh = v.videoHeight;
        if (!vw || !vh) return null;
        const scale = Math.min(1, this.width / vw, this.height / vh);
        const w = Math.round(vw * scale);
        const h = Math.round(vh * scale);
        const c = this.canvas;
        if (c.width !== w) c.width = w;
        if (c.height !== h) c.height = h;
        c.getContext('2d').drawImage(v, 0, 0, w, h);  // no flip: the server expects raw frames
        const dataUrl = c.toBlob
            ? await new Promise((resolve, reject) => {
                c.toBlob((blob) => {
                    if (!blob) return reject(new Error('JPEG encoding failed'));
                    const reader = new FileReader();
                    reader.onload = () => resolve(reader.result);
                    reader.onerror = () => reject(reader.error);
                    reader.readAsDataURL(blob);
                }, 'image/jpeg', this.jpegQuality);
            })
            : c.toDataURL('image/jpeg', this.jpegQuality);
        const comma = dataUrl.indexOf(',');
        return comma >= 0 ? dataUrl.slice(comma + 1) : null;
    }

    _status(status, detail) {
        this._on.status(status, detail);
    }

    _fail(failure) {
        this._end(Status.FAILED, failure);
        this._on.failed(failure);
    }

    _end(status, detail) {
        this._ended = true;
        this._run++;
        this._teardown();
        this._status(status, detail);
    }

    _teardown() {
        const settle = this._settle;
        this._settle = null;
        if (settle) settle();  // no-op once start() has settled
        clearTimeout(this._timer);
        clearTimeout(this._watchdog);
        this._timer = null;
        this._watchdog = null;
        const ws = this._ws;
        this._ws = null;
        if (ws) {
            ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
            if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
                try {
                    ws.close(1000, 'client done');
                } catch {
                    // already closing
                }
            }
        }
        if (this._stream) {
            this._stream.getTracks().forEach((t) => t.stop());
            this._stream = null;
        }
        if (this.video && this.video.srcObject) {
            this.video.pause();
            this.video.srcObject = null;
        }
        this._ended = true;
    }
}
