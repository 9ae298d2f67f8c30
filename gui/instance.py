"""One running TeXSnap per user: later launches hand their request to it over a local socket.

This is also how ``texsnap snip`` works where global hotkeys are impossible (Wayland): the
user binds that command to a desktop shortcut, and the command tells the running app to
start a snip. Messages are one line of UTF-8: ``show``, ``snip``, ``draw``.
"""

from __future__ import annotations

import getpass
import hashlib

from core import paths
from gui.qt import QLocalServer, QLocalSocket, QObject, Signal

COMMANDS = ("show", "snip", "draw", "quit")


def server_name() -> str:
    """Per user and per configuration folder, so test runs and portable installs never
    talk to each other's app."""
    key = f"{getpass.getuser()}:{paths.config_dir(ensure=False)}"
    return "texsnap-" + hashlib.sha1(key.encode()).hexdigest()[:16]


def send_command(command: str, name: str | None = None, timeout_ms: int = 1000) -> bool:
    """Deliver ``command`` to the running instance; False when none is running."""
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write((command + "\n").encode())
    socket.flush()
    while socket.bytesToWrite() > 0:  # flush() usually wrote everything already
        if not socket.waitForBytesWritten(timeout_ms):
            return False
    socket.disconnectFromServer()
    return True


class InstanceServer(QObject):
    """Listens for commands from later launches; emits ``command`` for each one."""

    command = Signal(str)

    def __init__(self, name: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # a socket file left by a crashed instance: nobody answers on it, so take it over
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            text = bytes(socket.readLine()).decode("utf-8", "replace").strip()
            if text in COMMANDS:
                self.command.emit(text)
