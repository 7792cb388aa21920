"""A tiny SMTP relay on a free port for mail tests: it can refuse (421 on connect, like a relay
that is down for maintenance) and later accept, and it keeps what it accepted."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Relay:
    port: int
    refusing: bool = True
    messages: list[str] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


class _Handler(socketserver.StreamRequestHandler):
    relay: Relay

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        relay = self.server.relay
        if relay.refusing:
            with relay.lock:
                relay.refused += 1
            self._say("421 relay unavailable, try again later")
            return
        self._say("220 test relay ready")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            verb = raw.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self._say("250 test relay")
            elif verb in {"MAIL", "RCPT", "RSET", "NOOP"}:
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 go ahead")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(line.decode(errors="replace"))
                with relay.lock:
                    relay.messages.append("".join(lines))
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def smtp_relay(*, refusing: bool = True) -> Iterator[Relay]:
    server = _Server(("127.0.0.1", 0), _Handler)
    relay = Relay(port=server.server_address[1], refusing=refusing)
    server.relay = relay
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        server.shutdown()
        server.server_close()
