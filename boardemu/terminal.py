"""Interactive terminal: this terminal's keystrokes go to the board console (raw mode);
Ctrl-] quits."""
from __future__ import annotations

import os
import select
import sys
import termios
import threading
import tty

QUIT = 0x1D   # Ctrl-]


class RawTerminal:
    def __init__(self, machine, channel=None):
        self.machine = machine
        self.channel = channel or machine.console
        self.fd = sys.stdin.fileno()
        self._old = None
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._old = termios.tcgetattr(self.fd)
        tty.setraw(self.fd)
        # keep output post-processing so '\n' from the board still returns the carriage
        attrs = termios.tcgetattr(self.fd)
        attrs[1] |= termios.OPOST | termios.ONLCR
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        self.machine.host_links += 1
        self._thread = threading.Thread(target=self._reader, daemon=True)
        self._thread.start()

    def _reader(self):
        while not self._stop.is_set():
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if not r:
                continue
            data = os.read(self.fd, 1024)
            if not data:
                break
            if QUIT in data:
                data = data[: data.index(QUIT)]
                if data:
                    self.channel.send(data)
                self.machine.pause()
                break
            self.channel.send(data)

    def stop(self):
        self._stop.set()
        if self._old is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._old)
            self._old = None
        self.machine.host_links = max(0, self.machine.host_links - 1)
        sys.stderr.write("\r\n")
