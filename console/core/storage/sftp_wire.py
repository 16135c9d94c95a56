"""Pipelined SFTP reads and writes on one paramiko channel, with every server answer checked.

Why not paramiko's own pipelining: `SFTPFile.set_pipelined` drops the status of writes it has not waited for
(a full remote disk would go unnoticed until the size check, or not at all), its 32 KiB writes plus headers
overflow OpenSSH's 32 KiB channel packets (two SSH packets per request), and `prefetch`/`readv` start a thread per
call and can fall back to one round trip per 32 KiB when that thread lags behind. So requests are sent here through
paramiko's request primitives (`_async_request`/`_read_response`, which its own `posix_rename` and prefetch use),
with a bounded number in flight, and the answers are matched by request number.

A `Wire` belongs to one channel and is used by one thread at a time (the storage's channel pool ensures it).
"""

from __future__ import annotations

import errno
from collections import deque
from collections.abc import Callable

import paramiko
from paramiko.message import Message
from paramiko.sftp import (
    CMD_DATA,
    CMD_EXTENDED,
    CMD_EXTENDED_REPLY,
    CMD_READ,
    CMD_STATUS,
    CMD_WRITE,
    SFTP_EOF,
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
    int64,
)

SAFE_REQUEST = 32 << 10        # every server handles requests this big (the SFTP draft's minimum packet is 34000)
MAX_REQUEST = 255 << 10        # our cap when the server announces more (OpenSSH: 255 KiB)
IN_FLIGHT_BYTES = 2 << 20      # per direction: OpenSSH's window for a session channel; ours (4 MiB) is larger
_WRITE_OVERHEAD = 4 + 1 + 4 + 4 + 8 + 4 + 256  # length, type, id, handle (up to 256 bytes), offset, data length


class SftpStatusError(OSError):
    """A server answered a request with an error status. `code` is the SFTP status (4 = generic failure)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text or f"SFTP status {code}")
        self.code = code


def _status_error(code: int, text: str) -> OSError:
    if code == SFTP_NO_SUCH_FILE:
        return FileNotFoundError(errno.ENOENT, text or "No such file")
    if code == SFTP_PERMISSION_DENIED:
        return PermissionError(errno.EACCES, text or "Permission denied")
    return SftpStatusError(code, text)


class Wire:
    """Raw, pipelined requests on one `paramiko.SFTPClient`."""

    def __init__(self, sftp: paramiko.SFTPClient) -> None:
        self.sftp = sftp
        self._got: dict[int, tuple[int, Message]] = {}
        self._pending: set[int] = set()
        # request sizes: the server's own limits (limits@openssh.com) when it announces them, else the safe minimum;
        # fewer, larger requests mean fewer answers to process, which is what costs CPU in Python
        self.read_size = self.write_size = SAFE_REQUEST
        try:
            limits = self.extended("limits@openssh.com")
        except (NotImplementedError, OSError):
            limits = None
        if limits is not None:
            _packet, max_read, max_write = (limits.get_int64() for _ in range(3))
            if max_read:
                self.read_size = max(SAFE_REQUEST, min(max_read, MAX_REQUEST))
            if max_write:
                self.write_size = max(SAFE_REQUEST, min(max_write, MAX_REQUEST + _WRITE_OVERHEAD) - _WRITE_OVERHEAD)

    # called by paramiko's _read_response for every answer to a request we sent with ourselves as "fileobj"
    def _async_response(self, t: int, msg: Message, num: int) -> None:
        self._got[num] = (t, msg)

    def _send(self, t: int, *args: object) -> int:
        num = self.sftp._async_request(self, t, *args)
        self._pending.add(num)
        return num

    def _wait(self, num: int) -> tuple[int, Message]:
        while num not in self._got:
            self.sftp._read_response()
        self._pending.discard(num)
        return self._got.pop(num)

    def _poll(self) -> None:
        """Take in whatever answers have already arrived, without blocking."""
        while self.sftp.sock.recv_ready():
            self.sftp._read_response()

    def drain(self) -> None:
        """After an interrupted operation: read the answers still owed so they do not linger (channel alive only)."""
        for num in sorted(self._pending):
            self._wait(num)
        self._got.clear()

    @staticmethod
    def _check_status(t: int, msg: Message) -> None:
        if t != CMD_STATUS:
            raise SftpStatusError(SFTP_FAILURE, f"unexpected SFTP answer type {t}")
        code = msg.get_int()
        if code != SFTP_OK:
            raise _status_error(code, msg.get_text())

    # -- reads -----------------------------------------------------------------------------------------------
    def pread(self, handle: bytes, offset: int, length: int,
              on_bytes: Callable[[int], None] | None = None) -> bytes:
        """Up to `length` bytes at `offset` (fewer only at end of file), in pipelined requests."""
        todo: deque[tuple[int, int]] = deque()
        pos, end = offset, offset + length
        while pos < end:
            n = min(self.read_size, end - pos)
            todo.append((pos, n))
            pos += n
        pieces: dict[int, bytes] = {}
        eof_at = end
        inflight: deque[tuple[int, int, int]] = deque()
        while todo or inflight:
            while todo and len(inflight) < max(2, IN_FLIGHT_BYTES * 2 // self.read_size):
                off, n = todo.popleft()
                if off >= eof_at:
                    continue
                inflight.append((self._send(CMD_READ, handle, int64(off), n), off, n))
            if not inflight:
                break
            num, off, n = inflight.popleft()
            t, msg = self._wait(num)
            if t == CMD_DATA:
                data = msg.get_string()
                if data:
                    pieces[off] = data
                    if on_bytes:
                        on_bytes(len(data))
                if 0 < len(data) < n:           # a server may answer short: ask for the rest
                    todo.appendleft((off + len(data), n - len(data)))
                elif not data:
                    eof_at = min(eof_at, off)
            elif t == CMD_STATUS:
                code = msg.get_int()
                if code == SFTP_EOF:
                    eof_at = min(eof_at, off)
                elif code != SFTP_OK:
                    raise _status_error(code, msg.get_text())
            else:
                raise SftpStatusError(SFTP_FAILURE, f"unexpected SFTP answer type {t}")
        parts = []
        pos = offset
        while pos in pieces and pos < eof_at:
            parts.append(pieces[pos])
            pos += len(pieces[pos])
        out = b"".join(parts)
        keep = min(length, eof_at - offset)
        return out if len(out) <= keep else out[:keep]

    # -- writes ------------------------------------------------------------------------------------------------
    def write_stream(self, handle: bytes, read: Callable[[int], bytes], offset: int = 0,
                     on_bytes: Callable[[int], None] | None = None) -> int:
        """Write everything `read(n)` yields at `offset`; returns the bytes written. Raises on the first error
        status the server sends (e.g. a full disk), after all requests have been answered."""
        chunk = self.write_size
        window = max(2, IN_FLIGHT_BYTES // chunk)
        inflight: deque[int] = deque()
        pos = offset
        error: OSError | None = None
        while error is None:
            data = read(chunk)
            if not data:
                break
            if on_bytes:
                on_bytes(len(data))
            inflight.append(self._send(CMD_WRITE, handle, int64(pos), data))
            pos += len(data)
            self._poll()
            while inflight and (len(inflight) >= window or inflight[0] in self._got):
                status = self._status_of(inflight.popleft())
                error = error or status
        while inflight:
            status = self._status_of(inflight.popleft())
            error = error or status
        if error is not None:
            raise error
        return pos - offset

    def _status_of(self, num: int) -> OSError | None:
        try:
            self._check_status(*self._wait(num))
        except OSError as e:
            return e
        return None

    # -- OpenSSH extensions -------------------------------------------------------------------------------------
    def extended(self, name: str, *args: object) -> Message | None:
        """Send an extended request; its reply message, None on plain success, `NotImplementedError` when the
        server does not support it."""
        t, msg = self._wait(self._send(CMD_EXTENDED, name, *args))
        if t == CMD_EXTENDED_REPLY:
            return msg
        if t == CMD_STATUS:
            code = msg.get_int()
            if code == SFTP_OP_UNSUPPORTED:
                raise NotImplementedError(name)
            if code != SFTP_OK:
                raise _status_error(code, msg.get_text())
            return None
        raise SftpStatusError(SFTP_FAILURE, f"unexpected SFTP answer type {t}")

    def fsync(self, handle: bytes) -> None:
        self.extended("fsync@openssh.com", handle)

    def posix_rename(self, src: str, dst: str) -> None:
        self.extended("posix-rename@openssh.com", src, dst)

    def free_bytes(self, path: str) -> int | None:
        """Bytes available to the login user on the file system holding `path` (statvfs@openssh.com)."""
        msg = self.extended("statvfs@openssh.com", path)
        if msg is None:
            return None
        _bsize, frsize, _blocks, _bfree, bavail = (msg.get_int64() for _ in range(5))
        return frsize * bavail
