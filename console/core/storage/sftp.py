"""A repository in a folder on an SFTP server (paramiko), with the same guarantees as a local folder.

* Atomic writes: upload to `tmp/<random>.tmp` in the repository, fsync (fsync@openssh.com), then rename over the
  final name (posix-rename@openssh.com; plain rename where the server lacks it). GC removes leftovers in tmp/.
* Packs are assembled in a local spool folder and uploaded by `put_file` in the background (two at a time, so the
  server's fsync and the next pack's sealing overlap the transfer); every other operation first waits for the
  uploads (a barrier), so an index or manifest is never written before the packs it names, and an upload's failure
  surfaces at the next call. Reads of pack ranges reuse open handles.
* Requests are pipelined (see sftp_wire) on a small pool of connections, so threads of the engine do not queue
  behind each other and latency does not serialise small objects.
* A dropped connection is re-established and the operation retried (writes are idempotent: temp + rename, and
  packs are content-addressed). The bandwidth throttle, if any, is charged per request.
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import shutil
import stat
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import BinaryIO, TypeVar

import paramiko

from console.core.errors import ConsoleError, RemoteConnectionError, RepositoryError, UsageError
from console.core.storage.base import Storage, check_name
from console.core.storage.hostkeys import KnownHosts
from console.core.storage.sftp_connect import (
    CONNECT_TIMEOUT,
    IO_TIMEOUT,
    Connection,
    SftpAuth,
    SftpLocation,
    connect,
)
from console.core.storage.sftp_wire import SftpStatusError, Wire
from console.core.storage.throttle import TokenBucket

log = logging.getLogger(__name__)
T = TypeVar("T")

TMP = "tmp"
CHANNELS = 4                    # connections per repository (each its own SSH transport and SFTP session)
RETRY_DELAYS = (0.5, 2.0)       # after a dropped connection: wait, reconnect, retry (len = number of retries)
HANDLES_PER_CHANNEL = 8         # open pack handles kept per connection for range reads
UPLOADS = 2                     # packs uploaded in the background at once; put_file waits for a free slot
READ_AHEAD = 4 << 20            # a small range read fetches this much of the pack ...
READ_WINDOWS = 6                # ... and this many such windows are kept for the reads that follow
_LOW_SPACE = 1 << 20


class _Channel:
    """One pooled connection: its wire and the pack handles it keeps open."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.wire = Wire(conn.sftp)
        self.handles: OrderedDict[str, paramiko.SFTPFile] = OrderedDict()

    @property
    def sftp(self) -> paramiko.SFTPClient:
        return self.conn.sftp

    def alive(self) -> bool:
        return self.conn.alive()

    def drop_handle(self, path: str) -> None:
        f = self.handles.pop(path, None)
        if f is not None:
            try:
                f.close()
            except Exception as e:   # best effort: the handle dies with the session anyway
                log.debug("closing %s: %s", path, e)

    def close(self) -> None:
        if self.alive():
            for path in list(self.handles):
                self.drop_handle(path)
        self.handles.clear()
        self.conn.close()


class _Window:
    """READ_AHEAD bytes of a pack from `start`, fetched once for the reads that fall inside."""

    def __init__(self, name: str, start: int, size: int) -> None:
        self.name, self.start, self.size = name, start, size
        self.data: bytes | None = None
        self.ready = threading.Event()


class _Dropped(Exception):
    """Internal: the connection died under an operation; `_run` reconnects and retries."""

    def __init__(self, original: Exception) -> None:
        super().__init__(f"{type(original).__name__}: {original}")
        self.original = original


def _dropped(e: Exception) -> _Dropped:
    return e if isinstance(e, _Dropped) else _Dropped(e)


class SftpStorage(Storage):
    def __init__(self, location: SftpLocation, auth: SftpAuth, known_hosts: KnownHosts, *,
                 accept_host_key: str | None = None, throttle: TokenBucket | None = None, channels: int = CHANNELS,
                 connect_timeout: float = CONNECT_TIMEOUT, io_timeout: float = IO_TIMEOUT,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS, spool_base: str | os.PathLike | None = None) -> None:
        self.loc, self.auth, self.known_hosts = location, auth, known_hosts
        self.accept_host_key = accept_host_key
        self.throttle = throttle
        self.channels = max(1, channels)
        self.connect_timeout, self.io_timeout, self.retry_delays = connect_timeout, io_timeout, retry_delays
        self.location = f"sftp://{location}"
        self._spool_base = spool_base
        self._spool: Path | None = None
        self._idle: list[_Channel] = []
        self._open = 0
        self._cond = threading.Condition()
        self._closed = False
        self._dirs: set[str] = set()            # remote folders known to exist (saves a round trip per pack)
        self._dirs_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.bytes_sent = 0                     # payload bytes uploaded / downloaded (tests and benchmarks)
        self.bytes_received = 0
        self.reconnects = 0
        self.server_info = ""                   # filled by the first connection: server version, host key, cipher
        self._posix_rename = True
        self._fsync = True
        self._uploader: ThreadPoolExecutor | None = None
        self._uploads: set[Future] = set()
        self._upload_slots = threading.Semaphore(UPLOADS)
        self._upload_error: BaseException | None = None
        self._windows: list[_Window] = []
        self._windows_lock = threading.Lock()

    # -- the connection pool -------------------------------------------------------------------------------------
    def _new_channel(self) -> _Channel:
        conn = connect(self.loc, self.auth, self.known_hosts, self.accept_host_key, self.connect_timeout,
                       self.io_timeout)
        try:
            ch = _Channel(conn)
        except (paramiko.SSHException, EOFError, OSError) as e:
            conn.close()
            raise RemoteConnectionError(f"the connection to {self.loc.address} failed while starting SFTP "
                                        f"({type(e).__name__}: {e})") from None
        if not self.server_info:
            self.server_info = f"{conn.server}, host key {conn.host_key}, cipher {conn.cipher}"
            log.info("connected to %s (%s)", self.loc.address, self.server_info)
        return ch

    def _checkout(self) -> _Channel:
        with self._cond:
            while True:
                if self._closed:
                    raise RepositoryError(f"repository {self.location} is closed")
                if self._idle:
                    return self._idle.pop()
                if self._open < self.channels:
                    self._open += 1
                    break
                self._cond.wait()
        try:
            return self._new_channel()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _checkin(self, ch: _Channel, broken: bool = False) -> None:
        if broken or self._closed:
            ch.close()
            with self._cond:
                self._open -= 1
                self._cond.notify()
            return
        with self._cond:
            self._idle.append(ch)
            self._cond.notify()

    def connect(self) -> str:
        """Open the first connection now (errors surface here); returns a one-line description of the server."""
        self._checkin(self._checkout())
        return self.server_info

    def _run(self, what: str, op: Callable[[_Channel], T]) -> T:
        """Run `op` on a pooled connection; after a dropped connection wait, reconnect and retry (RETRY_DELAYS)."""
        delays = iter(self.retry_delays)
        dropped: Exception | None = None
        while True:
            try:
                ch = self._checkout()
            except RemoteConnectionError as e:
                if dropped is None:
                    raise                             # the first connection: its own message says it all
                if not self._pause(delays):
                    raise self._lost(what, e) from None
                continue
            try:
                result = op(ch)
            except Exception as e:
                if not self._is_drop(ch, e):
                    self._release_after_error(ch)
                    raise
                self._checkin(ch, broken=True)
                dropped = e.original if isinstance(e, _Dropped) else e
                self.reconnects += 1
                if not self._pause(delays):
                    raise self._lost(what, dropped) from None
                log.warning("connection to %s lost while trying to %s (%s: %s); reconnecting", self.loc.address,
                            what, type(dropped).__name__, dropped)
                continue
            self._checkin(ch)
            return result

    @staticmethod
    def _pause(delays) -> bool:
        d = next(delays, None)
        if d is None:
            return False
        time.sleep(d)
        return True

    def _lost(self, what: str, e: Exception) -> RemoteConnectionError:
        return RemoteConnectionError(
            f"the connection to {self.loc.address} was lost while trying to {what} and could not be re-established "
            f"({type(e).__name__}: {e}); run the session again when the server is back: data already stored is "
            "not sent again")

    @staticmethod
    def _is_drop(ch: _Channel, e: Exception) -> bool:
        return not ch.alive() or isinstance(e, (_Dropped, TimeoutError, ConnectionError, EOFError,
                                                paramiko.SSHException))

    def _release_after_error(self, ch: _Channel) -> None:
        """The server refused something: collect the answers an interrupted pipeline still owes, keep the channel."""
        try:
            ch.wire.drain()
        except Exception as e:
            log.debug("discarding a connection after a failed drain: %s", e)
            self._checkin(ch, broken=True)
            return
        self._checkin(ch)

    # -- helpers ----------------------------------------------------------------------------------------------
    def _path(self, name: str) -> str:
        return self.loc.remote(check_name(name))

    def _received(self, n: int) -> None:
        with self._stats_lock:
            self.bytes_received += n
        if self.throttle:
            self.throttle.consume(n)

    def _sent(self, n: int) -> None:
        with self._stats_lock:
            self.bytes_sent += n
        if self.throttle:
            self.throttle.consume(n)

    def _error(self, ch: _Channel, e: OSError, what: str) -> Exception:
        """A server's refusal as an admin-readable RepositoryError; a broken connection as `_Dropped` (retried)."""
        host = self.loc.address
        if self._is_drop(ch, e):
            return _dropped(e)
        if isinstance(e, FileNotFoundError):
            return RepositoryError(f"{what} in repository {self.location}: not found")
        if isinstance(e, PermissionError):
            return RepositoryError(f"{what} in repository {self.location}: permission denied on {host} (check the "
                                   f"folder's owner and mode for user {self.loc.user})")
        if isinstance(e, SftpStatusError):
            free = self._free_bytes(ch)
            if free is not None and free < _LOW_SPACE:
                return RepositoryError(f"{what} in repository {self.location}: the disk is full on {host} (free "
                                       "space there, then run the job again)")
        return RepositoryError(f"{what} in repository {self.location}: the server reported: {e}")

    def _free_bytes(self, ch: _Channel) -> int | None:
        try:
            return ch.wire.free_bytes(self.loc.remote())
        except (NotImplementedError, OSError):
            return None

    def _ensure_dir(self, ch: _Channel, rel: str) -> None:
        """mkdir -p for a folder inside the repository (and the repository folder itself)."""
        if not rel or rel in self._dirs:
            return
        parent = posixpath.dirname(rel)
        if parent:
            self._ensure_dir(ch, parent)
        remote = self.loc.remote(rel)
        try:
            ch.sftp.mkdir(remote)
        except OSError as e:
            if self._is_drop(ch, e):
                raise _dropped(e) from None
            try:                                  # exists already? (SFTP v3 reports that as a plain failure)
                is_dir = stat.S_ISDIR(ch.sftp.stat(remote).st_mode or 0)
            except OSError:
                is_dir = False
            if not is_dir:
                raise self._error(ch, e, f"cannot create folder {rel}") from None
        with self._dirs_lock:
            self._dirs.add(rel)

    def _forget_dirs(self) -> None:
        with self._dirs_lock:
            self._dirs.clear()

    def _upload(self, ch: _Channel, src: BinaryIO, name: str, what: str) -> None:
        """Upload `src` to a temporary name, fsync, rename over `name`. Raises RepositoryError on refusals."""
        self._ensure_dir(ch, TMP)
        tmp = self.loc.remote(f"{TMP}/{uuid.uuid4().hex}.tmp")
        final = self._path(name)
        try:
            f = ch.sftp.open(tmp, "wb")
        except OSError as e:
            raise self._error(ch, e, what) from None
        try:
            try:
                ch.wire.write_stream(f.handle, src.read, on_bytes=self._sent)
                if self._fsync:
                    try:
                        ch.wire.fsync(f.handle)
                    except NotImplementedError:
                        self._fsync = False
                        log.info("%s does not support fsync@openssh.com; relying on its own flushing",
                                 self.loc.address)
            finally:
                f.close()
            self._rename(ch, tmp, final, name)
        except Exception as e:
            # judged before the partial file is removed: removing it frees the space a full disk lacked
            err = self._error(ch, e, what) if isinstance(e, OSError) else e
            if not self._is_drop(ch, e):
                self._remove_quietly(ch, tmp)
            if err is e:
                raise
            raise err from None

    def _rename(self, ch: _Channel, tmp: str, final: str, name: str) -> None:
        parent = posixpath.dirname(name)
        self._ensure_dir(ch, parent)
        for attempt in (1, 2):
            try:
                if self._posix_rename:
                    try:
                        ch.wire.posix_rename(tmp, final)
                        return
                    except NotImplementedError:
                        self._posix_rename = False
                        log.info("%s lacks posix-rename@openssh.com; replacing files in two steps",
                                 self.loc.address)
                try:
                    ch.sftp.rename(tmp, final)
                except OSError:
                    if not self._exists(ch, final):
                        raise
                    ch.sftp.remove(final)         # plain SFTP rename refuses to replace: remove, then rename
                    ch.sftp.rename(tmp, final)
                return
            except FileNotFoundError:
                if attempt == 2 or not self._exists(ch, tmp):
                    raise
                self._forget_dirs()               # a GC removed the (empty) folder meanwhile: create it again
                self._ensure_dir(ch, parent)

    def _remove_quietly(self, ch: _Channel, path: str) -> None:
        if not ch.alive():
            return
        try:
            ch.wire.drain()
            ch.sftp.remove(path)
        except Exception as e:   # GC removes what is left in tmp/
            log.debug("could not remove %s: %s", path, e)

    @staticmethod
    def _exists(ch: _Channel, path: str) -> bool:
        try:
            ch.sftp.stat(path)
            return True
        except FileNotFoundError:
            return False

    # -- Storage -------------------------------------------------------------------------------------------------
    def read(self, name: str) -> bytes:
        self._wait_uploads()
        path = self._path(name)

        def op(ch: _Channel) -> bytes:
            try:
                with ch.sftp.open(path, "rb") as f:
                    size = f.stat().st_size or 0
                    data = ch.wire.pread(f.handle, 0, size, on_bytes=self._received)
            except FileNotFoundError:
                raise RepositoryError(f"{name} is missing from repository {self.location}") from None
            except OSError as e:
                raise self._error(ch, e, f"cannot read {name}") from None
            if len(data) != size:
                raise RepositoryError(f"{name} changed while being read from repository {self.location}")
            return data

        return self._run(f"read {name}", op)

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """A range of a pack. Small reads fetch READ_AHEAD bytes at once and serve the next reads of the same
        region from memory: a restore reads the blobs of a pack in order, so most reads cost no round trip."""
        self._wait_uploads()
        if length >= READ_AHEAD:
            return self._pread(name, offset, length)
        with self._windows_lock:
            w = next((w for w in reversed(self._windows) if w.name == name and w.start <= offset
                      and offset + length <= w.start + w.size), None)
            if w is None:
                w = _Window(name, offset, READ_AHEAD)
                self._windows.append(w)
                del self._windows[:-READ_WINDOWS]
                mine = True
            else:
                mine = False
        if mine:
            try:
                w.data = self._pread(name, offset, w.size)
            except BaseException:
                with self._windows_lock:
                    if w in self._windows:
                        self._windows.remove(w)
                raise
            finally:
                w.ready.set()
        else:
            w.ready.wait()
            if w.data is None:                  # its reader failed: read on our own (and meet the error)
                return self._pread(name, offset, length)
        start = offset - w.start
        return w.data[start:start + length]

    def _forget_windows(self, name: str) -> None:
        with self._windows_lock:
            self._windows = [w for w in self._windows if w.name != name]

    def _pread(self, name: str, offset: int, length: int) -> bytes:
        path = self._path(name)

        def op(ch: _Channel) -> bytes:
            f = ch.handles.get(path)
            if f is None:
                try:
                    f = ch.sftp.open(path, "rb")
                except FileNotFoundError:
                    raise RepositoryError(f"{name} is missing from repository {self.location}") from None
                except OSError as e:
                    raise self._error(ch, e, f"cannot read {name}") from None
                ch.handles[path] = f
                while len(ch.handles) > HANDLES_PER_CHANNEL:
                    ch.drop_handle(next(iter(ch.handles)))
            else:
                ch.handles.move_to_end(path)
            try:
                return ch.wire.pread(f.handle, offset, length, on_bytes=self._received)
            except OSError as e:
                ch.drop_handle(path)
                raise self._error(ch, e, f"cannot read {name}") from None

        return self._run(f"read {name}", op)

    def write(self, name: str, data: bytes) -> None:
        self.flush()                            # the barrier: packs before the index and manifests naming them
        self._forget_windows(name)
        self._run(f"write {name}", lambda ch: self._upload(ch, io.BytesIO(data), name, f"cannot write {name}"))

    def create_exclusive(self, name: str, data: bytes) -> bool:
        self.flush()
        path = self._path(name)

        def op(ch: _Channel) -> bool:
            self._ensure_dir(ch, posixpath.dirname(name))
            try:
                f = ch.sftp.open(path, "wx")      # O_CREAT | O_EXCL on the server
            except OSError as e:
                if not self._exists(ch, path):
                    raise self._error(ch, e, f"cannot create {name}") from None
                # exists: ours if a retried attempt had created it before the connection dropped
                try:
                    with ch.sftp.open(path, "rb") as g:
                        return g.read() == data
                except OSError:
                    return False
            try:
                try:
                    ch.wire.write_stream(f.handle, io.BytesIO(data).read, on_bytes=self._sent)
                    if self._fsync:
                        try:
                            ch.wire.fsync(f.handle)
                        except NotImplementedError:
                            self._fsync = False
                finally:
                    f.close()
            except OSError as e:
                err = self._error(ch, e, f"cannot create {name}")
                if not self._is_drop(ch, e):
                    self._remove_quietly(ch, path)
                raise err from None
            return True

        return self._run(f"create {name}", op)

    def spool_dir(self) -> Path:
        with self._cond:
            if self._spool is None or not self._spool.is_dir():
                try:
                    self._spool = Path(tempfile.mkdtemp(prefix="backup-console-spool-", dir=self._spool_base))
                except OSError as e:
                    raise RepositoryError(f"cannot create a local spool folder for {self.location}: "
                                          f"{e.strerror or e}") from None
            return self._spool

    def put_file(self, name: str, local_path: Path) -> None:
        """Queue the upload and return (it runs in the background; see `flush`). Blocks while UPLOADS are running."""
        self._raise_upload_failure()
        self._upload_slots.acquire()
        try:
            self._raise_upload_failure()
            with self._cond:
                if self._closed:
                    raise RepositoryError(f"repository {self.location} is closed")
                if self._uploader is None:
                    self._uploader = ThreadPoolExecutor(UPLOADS, thread_name_prefix="sftp-upload")
                fut = self._uploader.submit(self._put_now, name, local_path)
                self._uploads.add(fut)
        except BaseException:
            self._upload_slots.release()
            raise
        fut.add_done_callback(self._upload_done)

    def _upload_done(self, fut: Future) -> None:
        with self._cond:
            self._uploads.discard(fut)
            exc = fut.exception()
            if exc is not None and self._upload_error is None:
                self._upload_error = exc
        self._upload_slots.release()

    def _raise_upload_failure(self) -> None:
        # for good, not once: whatever is written after a failed pack might name it (an index, a manifest)
        err = self._upload_error
        if err is not None:
            raise err.with_traceback(None)

    def _wait_uploads(self) -> None:
        """The barrier for reads, listings and deletes: they see every pack queued before them."""
        if self._uploads:
            with self._cond:
                pending = list(self._uploads)
            wait(pending)

    def flush(self) -> None:
        """Wait until every queued upload is on the server; raise if one failed. Every write calls this first, so
        an index or manifest is never stored after a pack that did not make it."""
        self._wait_uploads()
        self._raise_upload_failure()

    def _put_now(self, name: str, local_path: Path) -> None:
        def op(ch: _Channel) -> None:
            try:
                src = open(local_path, "rb")  # noqa: SIM115 - closed below; reopened on a retry
            except OSError as e:
                raise RepositoryError(f"cannot read spooled file {local_path}: {e.strerror or e}") from None
            with src:
                self._upload(ch, src, name, f"cannot store {name}")

        self._run(f"upload {name}", op)
        try:
            os.unlink(local_path)
        except OSError as e:
            log.debug("spooled %s: %s", local_path, e)

    def exists(self, name: str) -> bool:
        self._wait_uploads()
        path = self._path(name)

        def op(ch: _Channel) -> bool:
            try:
                return self._exists(ch, path)
            except OSError as e:
                raise self._error(ch, e, f"cannot look up {name}") from None

        return self._run(f"look up {name}", op)

    def size(self, name: str) -> int:
        self._wait_uploads()
        path = self._path(name)

        def op(ch: _Channel) -> int:
            try:
                return int(ch.sftp.stat(path).st_size or 0)
            except FileNotFoundError:
                raise RepositoryError(f"{name} is missing from repository {self.location}") from None
            except OSError as e:
                raise self._error(ch, e, f"cannot look up {name}") from None

        return self._run(f"look up {name}", op)

    def _listdir(self, rel: str) -> tuple[list[str], list[str]]:
        """(files, folders) directly in repository folder `rel`; an absent folder has neither."""
        remote = self.loc.remote(rel)

        def op(ch: _Channel) -> tuple[list[str], list[str]]:
            try:
                entries = ch.sftp.listdir_attr(remote)
            except FileNotFoundError:
                return [], []
            except OSError as e:
                raise self._error(ch, e, f"cannot list {rel or 'the repository folder'}") from None
            files, dirs = [], []
            for a in entries:
                if a.filename in (".", ".."):
                    continue
                child = f"{rel}/{a.filename}" if rel else a.filename
                (dirs if stat.S_ISDIR(a.st_mode or 0) else files).append(child)
            return files, dirs

        return self._run(f"list {rel or 'the repository folder'}", op)

    def _walk(self, rel: str) -> tuple[list[str], list[str]]:
        """All files and folders below `rel`, level by level; folders of a level are listed in parallel."""
        files, dirs = self._listdir(rel)
        all_dirs: list[str] = []
        with ThreadPoolExecutor(self.channels, thread_name_prefix="sftp-list") as ex:
            while dirs:
                all_dirs.extend(dirs)
                results = list(ex.map(self._listdir, dirs))
                dirs = []
                for fs, ds in results:
                    files.extend(fs)
                    dirs.extend(ds)
        return files, all_dirs

    def list(self, prefix: str) -> list[str]:
        self._wait_uploads()
        if prefix:
            check_name(prefix)
        return self._walk(prefix)[0]

    def delete(self, name: str) -> None:
        self._wait_uploads()
        self._forget_windows(name)
        path = self._path(name)

        def op(ch: _Channel) -> None:
            ch.drop_handle(path)
            try:
                ch.sftp.remove(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                if self._exists(ch, path):
                    raise self._error(ch, e, f"cannot delete {name}") from None

        self._run(f"delete {name}", op)

    def remove_empty_dirs(self, prefix: str) -> None:
        self._wait_uploads()
        check_name(prefix)
        _files, dirs = self._walk(prefix)

        def op(ch: _Channel) -> None:
            for d in sorted([*dirs, prefix], key=lambda d: d.count("/"), reverse=True):
                try:
                    ch.sftp.rmdir(self.loc.remote(d))
                except OSError:
                    pass                            # not empty (or gone): fine

        self._run(f"tidy {prefix}", op)
        self._forget_dirs()

    def close(self) -> None:
        self._wait_uploads()
        if self._upload_error is not None:  # the session has reported it (or will, from its own error)
            log.warning("an upload to %s failed: %s", self.location, self._upload_error)
        if self._uploader is not None:
            self._uploader.shutdown(wait=True)
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for ch in idle:
            ch.close()
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None

    # -- for adding a repository and "Test connection" --------------------------------------------------------------
    def root_state(self) -> str:
        """'missing', 'empty', 'repository' or 'other' (a folder with other files, or not a folder)."""
        self._wait_uploads()
        remote = self.loc.remote()

        def op(ch: _Channel) -> str:
            try:
                st = ch.sftp.stat(remote)
            except FileNotFoundError:
                return "missing"
            except OSError as e:
                raise self._error(ch, e, "cannot look at the repository folder") from None
            if not stat.S_ISDIR(st.st_mode or 0):
                return "other"
            try:
                names = ch.sftp.listdir(remote)
            except OSError as e:
                raise self._error(ch, e, "cannot list the repository folder") from None
            if "config.json" in names:
                return "repository"
            return "empty" if not names else "other"

        return self._run("look at the repository folder", op)

    def resolved_root(self) -> str:
        """The repository folder as the server's absolute path (relative locations resolved against the login
        folder), for messages that let the admin check the path."""
        def op(ch: _Channel) -> str:
            try:
                return str(ch.sftp.normalize(self.loc.remote()))
            except FileNotFoundError:
                home = str(ch.sftp.normalize("."))
                return self.loc.path if self.loc.absolute else posixpath.join(home, self.loc.path)
            except OSError as e:
                if self._is_drop(ch, e):
                    raise _dropped(e) from None
                return self.loc.remote()

        return self._run("resolve the repository folder", op)

    def ensure_root(self) -> None:
        """Create the repository folder (and its parents) when missing."""
        if not self.loc.path:
            return

        def op(ch: _Channel) -> None:
            parts = self.loc.path.strip("/").split("/")
            base = "/" if self.loc.absolute else ""
            for i in range(len(parts)):
                d = base + "/".join(parts[: i + 1])
                try:
                    st = ch.sftp.stat(d)
                except FileNotFoundError:
                    try:
                        ch.sftp.mkdir(d)
                    except OSError as e:
                        if self._is_drop(ch, e):
                            raise _dropped(e) from None
                        if not self._exists(ch, d):
                            why = "permission denied" if isinstance(e, PermissionError) else str(e)
                            raise UsageError(f"cannot create folder {d} on {self.loc.address} ({why}); create it "
                                             f"on the server and give {self.loc.user} write access") from None
                    continue
                except OSError as e:
                    if self._is_drop(ch, e):
                        raise _dropped(e) from None
                    raise UsageError(f"cannot reach folder {d} on {self.loc.address} ({e})") from None
                if not stat.S_ISDIR(st.st_mode or 0):
                    raise UsageError(f"{d} on {self.loc.address} is a file, not a folder")

        self._run("create the repository folder", op)


__all__ = ["ConsoleError", "SftpAuth", "SftpLocation", "SftpStorage"]
