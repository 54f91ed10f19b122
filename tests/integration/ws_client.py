"""Minimal RFC 6455 WebSocket client (Python standard library only) for the /ws tests."""
import base64
import os
import socket
import struct
import threading


class WsClosed(Exception):
    """The server closed the connection (code and reason attached)."""

    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason}")
        self.code = code
        self.reason = reason


class WsClient:
    """A blocking client: connect, send text/binary (masked), receive whole messages."""

    def __init__(self, host, port, path="/ws", headers=None, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.handshake_status, self.handshake_body = self._read_handshake()
        self._send_lock = threading.Lock()
        self._buf = b""

    def _read_handshake(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        self._leftover = rest
        return status, rest

    def _recv_exact(self, n):
        while len(self._leftover) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WsClosed(1006, "connection lost")
            self._leftover += chunk
        out, self._leftover = self._leftover[:n], self._leftover[n:]
        return out

    def send(self, payload, opcode=1):
        """Sends one message (opcode 1 text, 2 binary), masked as a client must."""
        if isinstance(payload, str):
            payload = payload.encode()
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
            _mask_fast(payload, mask)
        with self._send_lock:
            self.sock.sendall(header + mask + masked)

    def recv(self):
        """Returns the next text message; raises WsClosed on a close frame."""
        while True:
            b0, b1 = self._recv_exact(2)
            opcode = b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._recv_exact(8))[0]
            data = self._recv_exact(n)
            if opcode == 8:
                code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else 1005
                raise WsClosed(code, data[2:].decode(errors="replace"))
            if opcode == 9:  # ping -> pong
                self.send(data, opcode=10)
                continue
            if opcode in (1, 2):
                return data.decode() if opcode == 1 else data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _mask_fast(payload, mask):
    """XOR-masks a long payload using integer arithmetic (much faster than a byte loop)."""
    n = len(payload)
    reps = (n + 3) // 4
    key = int.from_bytes((mask * reps)[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")
