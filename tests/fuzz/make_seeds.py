#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

Usage: tests/fuzz/make_seeds.py [SAMPLE_JPEG]

Images are generated with the ffmpeg CLI from synthetic test patterns (and, when SAMPLE_JPEG is
given, a face photo downscaled to 48 px); nothing else is read. The committed corpus is this
script's output; rerun it after changing a target's input format. Every file stays < 20 KB.
"""
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    assert len(data) < 20_000, (target, name, len(data))
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ffmpeg_image(args, ext):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out." + ext)
        subprocess.run(["ffmpeg", "-v", "error", "-y"] + args + ["-frames:v", "1", out],
                       check=True)
        with open(out, "rb") as f:
            return f.read()


def with_exif_orientation(jpeg, orientation):
    """The JPEG with an APP1 EXIF segment holding only tag 0x0112 (big-endian TIFF)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app1 + jpeg[2:]


def images(sample):
    src = ["-f", "lavfi", "-i", "testsrc=size=32x24:rate=1"]
    out = {
        "tiny.jpg": ffmpeg_image(src + ["-q:v", "8"], "jpg"),
        "grey.jpg": ffmpeg_image(src + ["-pix_fmt", "gray", "-q:v", "8"], "jpg"),
        "yuv444.jpg": ffmpeg_image(src + ["-pix_fmt", "yuvj444p", "-q:v", "8"], "jpg"),
        "rgb.png": ffmpeg_image(src, "png"),
        "grey16.png": ffmpeg_image(src + ["-pix_fmt", "gray16be"], "png"),
        "rgba.png": ffmpeg_image(src + ["-pix_fmt", "rgba"], "png"),
        "pal8.png": ffmpeg_image(src + ["-pix_fmt", "pal8"], "png"),
        "rgb.bmp": ffmpeg_image(src, "bmp"),
        "lossy.webp": ffmpeg_image(src + ["-c:v", "libwebp", "-quality", "20"], "webp"),
        "lossless.webp": ffmpeg_image(src + ["-c:v", "libwebp", "-lossless", "1"], "webp"),
        "anim.gif": ffmpeg_image(src, "gif"),  # refused: not a supported format
    }
    out["rotated6.jpg"] = with_exif_orientation(out["tiny.jpg"], 6)
    out["mirrored2.jpg"] = with_exif_orientation(out["tiny.jpg"], 2)
    out["truncated.jpg"] = out["tiny.jpg"][: len(out["tiny.jpg"]) // 2]
    if sample:
        out["face48.jpg"] = ffmpeg_image(["-i", sample, "-vf", "scale=48:-2", "-q:v", "10"], "jpg")
    return out


def http(method, target, headers=(), body=b"", version="HTTP/1.1"):
    if isinstance(body, str):
        body = body.encode()
    lines = [f"{method} {target} {version}", "Host: localhost:8001"] + list(headers)
    if body and not any(h.lower().startswith(("content-length", "transfer-encoding"))
                        for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def multipart(field, data, boundary="XyZzy42", filename="a.jpg", ctype="image/jpeg"):
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def main():
    sample = sys.argv[1] if len(sys.argv) > 1 else None
    imgs = images(sample)
    jpeg = imgs.get("face48.jpg", imgs["tiny.jpg"])
    b64 = base64.b64encode(jpeg).decode()
    small_b64 = base64.b64encode(imgs["tiny.jpg"]).decode()

    for name, data in imgs.items():
        write("image_decode", name, data)

    # JSON texts (fuzz_json: the first byte also picks the depth cap).
    for i, text in enumerate([
        '{"image": "aGVsbG8=", "n": 1, "x": -0.5e-3, "ok": true, "z": null}',
        '[1, 2.5, "\\u00e9\\ud83d\\ude00", {"a": [[]]}, false]',
        '{"deep": [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}',
        '"caf\u00e9 \\n \\"q\\""',
        '1e308', '-0', '18446744073709551615', '{"a":1,"a":2}', '{"bad": "\xff"}',
    ]):
        write("json", f"seed{i}", text)

    # Licence (fuzz_licence): mode byte, then text. Mode % 3: 0 raw licence text, 1 a payload
    # the target signs ("@MC@" = this machine's code), 2 a public key.
    write("licence", "unsigned", b"\x00eyJtYWNoaW5lX2NvZGUiOiJ4In0.c2lnbmF0dXJl")
    write("licence", "signed_ok", b"\x01" + b'{"machine_code": "@MC@", "expires": 4000000000}')
    write("licence", "signed_url", b"\x09" + b'{"machine_code": "@MC@", "expires": 4000000000}')
    write("licence", "signed_expired", b"\x01" + b'{"machine_code": "@MC@", "expires": 100}')
    write("licence", "signed_other", b"\x01" + b'{"machine_code": "LP1-00", "expires": 1e10}')
    write("licence", "signed_types", b"\x01" + b'{"machine_code": "@MC@", "expires": "soon"}')
    write("licence", "key", b"\x02" + base64.b64encode(bytes(range(32))))

    # Config (fuzz_config): file JSON \0 KEY=VALUE lines (--set) \0 NAME=VALUE lines (env).
    cfg = json.dumps({"port": 8002, "workers": 2, "api_keys": ["key-one-123", "key-two-456"],
                      "cors_origins": "https://a.example, https://b.example",
                      "challenges": "LEFT,RIGHT,BLINK", "confidence_threshold": 0.9,
                      "c_quality_low": 0.2, "log_level": "warn", "max_video_seconds": 12.5})
    write("config", "file_only", cfg)
    write("config", "all_three", cfg + "\0port=9000\nws_detect_max_side=0\nhost=127.0.0.1\0"
          "API_KEY=abcdefgh12\nLIVEPROOF_WORKERS=3\nCONFIDENCE_THRESHOLD=0.7\nmodel_dir=/m")
    write("config", "bad_values", '{"port": "0x50", "api_keys": " , "}\0port=70000\0API_KEY=,,')
    write("config", "env_only", "{}\0\0LIVEPROOF_CHALLENGES=UP,DOWN\nLIVEPROOF_API_KEYS=k1234567")
    write("config", "licence_key", '{"licence_public_key": "' +
          base64.b64encode(bytes(32)).decode() + '", "licence_file": "/tmp/x"}')

    # Labels CSV (fuzz_labels_csv): first byte bit 0 = tiny caps.
    csv = ("file,task,label,source_repo,notes,extra\r\n"
           'a/live.jpg,antispoof,live,r/x,"640x480, webcam","{""attack"": """"}"\r\n'
           'a/mask.jpg,antispoof,spoof,r/y,paper mask,"{""attack"": ""paper mask""}"\n'
           'h/1.jpg,headpose,"yaw=10",r/z,"multi\nline",\n')
    write("labels_csv", "labels", b"\x00" + csv.encode())
    write("labels_csv", "tiny_caps", b"\x21" + csv.encode())
    write("labels_csv", "bad_extra", b"\x00file,task,label,extra\na,b,c,{not json}\n")
    write("labels_csv", "stray_quote", b'\x00file,task,label\na,b"c,d\n')

    # Challenge (fuzz_challenge): 8 config bytes, then 4-byte records (op, dt, p1, p2).
    def session(cfg_bytes, ops):
        return bytes(cfg_bytes) + b"".join(bytes(o) for o in ops)
    centre, move, verdict_live = (1, 10, 5, 5), (2, 10, 3, 200), (10, 1, 0, 0)
    write("challenge", "pass3_verdict", session(
        [2, 0x40, 0x0F, 0, 0x2F, 5, 1, 2], [centre, move] * 3 + [verdict_live]))
    write("challenge", "pass1_mirrored", session([0, 0x80, 0x03, 0, 0x2F, 5, 7, 9],
                                                 [centre, move]))
    write("challenge", "blink", session(
        [0, 0x00, 0x50, 0, 0x2F, 5, 3, 3],
        [centre, (12, 5, 10, 1), (12, 5, 250, 1), (12, 5, 10, 1)]))
    write("challenge", "wrong_move", session([2, 1, 0x0F, 0, 0x2F, 5, 1, 1],
                                             [centre, (3, 5, 1, 0), (0, 5, 0, 0), (3, 5, 1, 1)]))
    write("challenge", "timeouts", session([1, 0, 0x0F, 0, 0x00, 0, 1, 1],
                                           [centre, (7, 0xF1, 0, 0), (7, 0xFF, 0, 0)]))
    write("challenge", "faces", session([1, 0x40, 0x0F, 5, 0x2F, 5, 1, 1],
                                        [(4, 1, 0, 0), (11, 1, 0, 1), (5, 1, 0, 0)]))
    write("challenge", "spoof", session([0, 0x40, 0x0F, 0, 0x2F, 5, 1, 1],
                                        [(10, 1, 1, 0), centre, move, verdict_live]))

    # WebSocket (fuzz_ws_message): first byte (bit 0 small caps + BLINK, bit 1 mirrored), then
    # NUL-separated messages: T<text>, B (binary), K (tick), C (close).
    frame = json.dumps({"frame": small_b64})
    write("ws_message", "frames", b"\x00" + b"\0".join(
        [b"T" + frame.encode(), b"T" + json.dumps({"frame": "data:image/jpeg;base64," +
                                                  small_b64}).encode(), b"K"]))
    write("ws_message", "errors", b"\x01" + b"\0".join(
        [b"T{}", b"T[1]", b"T{\"frame\": 5}", b"T{\"frame\": \"@@@\"}",
         b"T{\"frame\": \"aGVsbG8=\"}",
         b"Tnot json", b"B", b"T" + frame.encode(), b"K", b"C", b"T{}"]))
    write("ws_message", "mirrored", b"\x02T" + frame.encode())

    # HTTP (fuzz_http_request): control byte (bit 0 also the locked server, bit 1 ready, bits
    # 2-4 the packet size), then the bytes of one connection.
    jbody = json.dumps({"image": b64})
    mp, bnd = multipart("file", jpeg)
    mpv, bndv = multipart("video", b"\x00\x00\x00\x18ftypmp42", filename="v.mp4",
                          ctype="video/mp4")
    key = ["X-API-KEY: fuzz-key-0001"]
    reqs = {
        "get_root": http("GET", "/"),
        "healthz_keepalive": http("GET", "/healthz") + http("GET", "/readyz") +
        http("GET", "/metrics", ["Connection: close"]),
        "docs": http("GET", "/docs/") + http("GET", "/docs/swagger-ui.css") +
        http("GET", "/docs/escape.txt") + http("GET", "/docs/../../outside.txt"),
        "test_page": http("GET", "/test") + http("GET", "/test/liveness-client.js"),
        "openapi_head": http("HEAD", "/openapi.json"),
        "b_liveness": http("POST", "/liveness", ["Content-Type: application/json"] + key, jbody),
        "b_liveness_b64": http("POST", "/liveness", ["Content-Type: application/json"],
                               json.dumps({"image_base64": "data:image/png;base64," + small_b64})),
        "b_blink": http("POST", "/active/blink",
                        [f"Content-Type: multipart/form-data; boundary={bndv}"], mpv),
        "v1_raw": http("POST", "/v1/analyze?passive_only=1", ["Content-Type: image/jpeg"] + key,
                       imgs["tiny.jpg"]),
        "v1_multipart": http("POST", "/v1/analyze?mesh=1",
                             [f"Content-Type: multipart/form-data; boundary={bnd}"], mp),
        "v1_json": http("POST", "/v1/analyze", ["Content-Type: application/json"], jbody),
        "c_multipart": http("POST", "/liveness-detection",
                            [f"Content-Type: multipart/form-data; boundary={bnd}"] + key, mp),
        "c_base64": http("POST", "/liveness-detection-base64", ["Content-Type: application/json"],
                         json.dumps({"base64": small_b64})),
        "c_check_base64": http("POST", "/check_liveness_base64",
                               ["Content-Type: application/json"], json.dumps({"base64": "x"})),
        "c_machine": http("GET", "/get-machine-code", key),
        "c_activate": http("POST", "/activate-machine", ["Content-Type: application/json"],
                           json.dumps({"license": "eyJ4IjoxfQ.AAAA"})),
        "options": http("OPTIONS", "/liveness", ["Origin: https://app.example",
                                                 "Access-Control-Request-Method: POST"]),
        "chunked": http("POST", "/liveness", ["Content-Type: application/json",
                                              "Transfer-Encoding: chunked"],
                        b"5\r\n{\"ima\r\n" + f"{len(jbody) - 5:x}\r\n".encode() +
                        jbody[5:].encode() + b"\r\n0\r\n\r\n"),
        "percent_path": http("GET", "/%68ealthz?x=%41+b&y") + http("GET", "/%ff") +
        http("GET", "/a%00b"),
        "bearer": http("GET", "/metrics", ["Authorization: Bearer Zm9vYmFyYmF6"]),
        "expect": http("POST", "/v1/analyze", ["Content-Type: image/png", "Expect: 100-continue"],
                       imgs["rgb.png"]),
        "too_large": http("POST", "/activate-machine", ["Content-Length: 999999999"]),
        "ws_upgrade": http("GET", "/ws?mirrored=1&api_key=fuzz-key-0001",
                           ["Upgrade: websocket", "Connection: Upgrade",
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                            "Sec-WebSocket-Version: 13", "Origin: http://localhost:8001"]),
        "ws_plain": http("GET", "/ws"),
        "http10": http("GET", "/healthz", version="HTTP/1.0"),
        "method_405": http("DELETE", "/liveness") + http("GET", "/nowhere"),
        "garbage": b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        "session_create": http("POST", "/v1/sessions", ["Content-Type: application/json"] + key,
                               json.dumps({"mode": "passive", "ttl": 60, "nonce": "n1"})) +
        http("GET", "/v1/sessions?status=CREATED&limit=2", key),
        "session_paths": http("GET", "/v1/sessions/" + "0" * 32, key) +
        http("DELETE", "/v1/sessions/" + "a" * 32, key) +
        http("GET", "/v1/sessions/" + "b" * 32 + "/images/1", key) +
        http("GET", "/.well-known/jwks.json"),
        "session_door": http("POST", "/v1/sessions/" + "c" * 32 + "/image?token=abc",
                             ["Content-Type: image/jpeg"], imgs["tiny.jpg"]),
    }
    for i, (name, data) in enumerate(reqs.items()):
        ctl = bytes([(i % 2) | ((i % 3 == 0) << 1) | ((i % 8) << 2)])
        write("http_request", name, ctl + data)

    # JSON bodies (fuzz_json_bodies): first byte picks the route (bits 0-2: /liveness,
    # -base64, _base64, /activate-machine (bit 7: /api/activate), /v1/analyze x2,
    # /api/liveness, /v1/analyze) and the server mode.
    bodies = [(0, jbody), (1, json.dumps({"base64": small_b64})), (2, json.dumps({"base64": 1})),
              (3, json.dumps({"license": "a.b"})), (4, json.dumps({"image_base64": small_b64})),
              (5, json.dumps({"base64": "data:image/jpeg;base64," + small_b64})),
              (6, json.dumps({"image_base64": None, "image": small_b64})), (7, "[]"),
              (0x08, json.dumps({"image": "!!"})), (0x1B, json.dumps({"license": 5})),
              (0x24, "{\"image\": \"" + "A" * 2000 + "\"}"),
              (0x0E, json.dumps({"image": "data:image/jpeg;base64," + small_b64})),
              (0x83, json.dumps({"license": "FP1.abc"})), (0x93, "FP1.raw-text-licence")]
    for pick, body in bodies:
        write("json_bodies", f"route{pick:02x}", bytes([pick]) + body.encode())

    # Sessions (fuzz_sessions): first byte bits 0-2 the action (0-1 create body, 2 list query,
    # 3 a path under /v1/sessions/, 4 a run ended with these bytes, 5 JWS, 6-7 base64url),
    # bit 3 the locked server; the rest is the client's bytes.
    sessions = {
        "create_all": (0, json.dumps({
            "mode": "active", "challenges": ["LEFT", "BLINK"], "required_successes": 2,
            "audit_images": 4, "reference_image": False, "nonce": "n-1",
            "external_ref": "order 42", "device_id": "dev-1", "ttl": 600,
            "challenge_timeout": 5, "session_timeout": 30})),
        "create_passive_locked": (0x08, json.dumps({"mode": "passive", "ttl": 1})),
        "create_bad": (1, json.dumps({"mode": "x", "ttl": 1e9, "audit_images": -1})),
        "create_types": (0x09, '{"nonce": 5, "challenges": "LEFT", "ttl": "60"}'),
        "create_empty": (0, ""),
        "list": (2, "status=SUCCEEDED&since=2026-01-01T00:00:00Z&limit=5"),
        "list_cursor": (0x0A, "cursor=eyJ0IjoxLCJpZCI6ImEifQ&limit=0"),
        "path_image": (3, "0123456789abcdef0123456789abcdef/images/0"),
        "path_door": (0x23, "0123456789abcdef0123456789abcdef/image"),
        "finish_jpeg": (4, imgs["tiny.jpg"]),
        "finish_text": (0x0C, "caf\u00e9 \xff\xfe"),
        "jws": (5, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
        "jws_parts": (5, "a.b.c"),
        "b64url": (6, "AAEC_-8"),
        "b64url_noncanonical": (7, "AB"),
    }
    for name, (pick, data) in sessions.items():
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        write("sessions", name, bytes([pick]) + data)


if __name__ == "__main__":
    main()
