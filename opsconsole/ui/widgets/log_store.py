"""A compact, bounded store of log lines (no Textual): the log viewer's memory.

A ``list[str]`` of log lines costs about 57 bytes of object header and pointer per line on top
of the text (1,000,000 lines: ~55 MiB of overhead, and Textual's ``Log`` holds 470 MiB for 1M
lines, docs/performance.md). Here lines are kept in sealed *chunks* of ``CHUNK`` lines: one UTF-8
``bytes`` holding the chunk's lines, each ended by ``"\\n"``, plus an ``array('I')`` of line
starts, so the overhead is about 5 bytes a line. UTF-8 rather than ``str``: one Chinese line
would turn a whole ``str`` chunk into 2 bytes per character (4 with an emoji), ASCII included.
The append path is C-level for ASCII (``join``, ``encode``, ``map``, ``accumulate``); the newest
lines wait in a short list until a chunk is full.

The store is bounded: past ``max_lines`` the oldest lines are dropped, a whole chunk at a time
once a chunk's lines have all been dropped (amortised O(1) per line). Lines have an *absolute*
number (``dropped + index``) that stays valid while older lines are dropped; search results use
it.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate, compress, count, filterfalse, repeat
from operator import add, not_
from typing import cast

from rich.cells import cell_len

CHUNK_BITS = 10
CHUNK = 1 << CHUNK_BITS  # 1024 lines per sealed chunk
_MASK = CHUNK - 1

_NEWLINES = re.compile(r"\r\n|\r|\n")
_EOL = re.compile(r"(?:\r\n|\r|\n)\Z")


def line_offsets(lines: list[str] | list[bytes]) -> array:
    """Start offsets of ``lines`` joined with a newline each, plus the end (len + 1 items)."""
    return array("I", accumulate(map(add, map(len, lines), repeat(1)), initial=0))


def _seal(part: list[str | bytes]) -> tuple[bytes, array]:
    """One chunk: the lines as UTF-8, each ended by a newline, and their byte offsets.

    Only the non-ASCII lines are measured one by one; everything else runs at C speed.
    """
    if isinstance(part[0], bytes) and all(map(isinstance, part, repeat(bytes))):
        raw = cast(list[bytes], part)
        return b"\n".join(raw) + b"\n", line_offsets(raw)
    if all(map(isinstance, part, repeat(str))):
        lines = cast(list[str], part)
    else:  # mixed appends (append_lines and append_bytes): make it all str
        lines = [p.decode("utf-8", "replace") if isinstance(p, bytes) else p for p in part]
    text = "\n".join(lines) + "\n"
    if text.isascii():
        return text.encode("ascii"), line_offsets(lines)
    lengths = list(map(len, lines))
    for i in compress(count(), map(not_, map(str.isascii, lines))):
        lengths[i] = len(lines[i].encode("utf-8", "surrogatepass"))
    offsets = array("I", accumulate(map(add, lengths, repeat(1)), initial=0))
    return text.encode("utf-8", "surrogatepass"), offsets


class LineStore:
    """Append-only, bounded sequence of lines with O(1) random access."""

    def __init__(self, max_lines: int = 200_000) -> None:
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        self.max_lines = max_lines
        self._chunks: list[tuple[bytes, array]] = []
        self._tail: list[str | bytes] = []
        self._head = 0  # lines of the first chunk (or of the tail) already dropped
        self.dropped = 0
        """Lines dropped since the last :meth:`clear` (absolute number of line 0)."""
        self.max_width = 0
        """Widest line seen, in terminal cells (a little generous for tabs)."""

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return (len(self._chunks) << CHUNK_BITS) + len(self._tail) - self._head

    def __getitem__(self, index: int) -> str:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("line index out of range")
        g = index + self._head
        c = g >> CHUNK_BITS
        if c < len(self._chunks):
            data, offs = self._chunks[c]
            j = g & _MASK
            return data[offs[j] : offs[j + 1] - 1].decode("utf-8", "replace")
        line = self._tail[g - (len(self._chunks) << CHUNK_BITS)]
        return line.decode("utf-8", "replace") if isinstance(line, bytes) else line

    def __iter__(self) -> Iterator[str]:
        for i in range(len(self)):
            yield self[i]

    def slice(self, start: int, stop: int) -> list[str]:
        """Lines ``start`` to ``stop`` (exclusive), clamped to what is held."""
        start = max(start, 0)
        stop = min(stop, len(self))
        return [self[i] for i in range(start, stop)]

    @property
    def total_appended(self) -> int:
        """Absolute number one past the newest line."""
        return self.dropped + len(self)

    # -- writing ---------------------------------------------------------------------------
    @staticmethod
    def normalize(lines: Iterable[str]) -> tuple[list[str], str]:
        """Split embedded newlines (``\\r\\n``, ``\\r``, ``\\n``); return lines and their blob.

        The blob is the lines joined by ``"\\n"`` (used for width and search scans).
        """
        lines = lines if isinstance(lines, list) else list(lines)
        blob = "\n".join(lines)
        if "\r" in blob or blob.count("\n") != len(lines) - 1:
            # an item may end with its own newline, or hold several lines
            blob = "\n".join(_EOL.sub("", line, count=1) for line in lines)
            lines = _NEWLINES.split(blob)
            blob = "\n".join(lines)
        return lines, blob

    @staticmethod
    def split_bytes(data: bytes) -> tuple[list[bytes], bytes]:
        """Complete UTF-8 lines (``\\n``-separated, a final newline optional) -> lines, blob.

        No decoding: log bytes go into the store as they came (decoded when shown), which is
        several times faster than ``str`` for large reads.
        """
        if data.endswith(b"\n"):
            data = data[:-1]
            if data.endswith(b"\r"):
                data = data[:-1]
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return data.split(b"\n"), data

    def extend(self, lines: list[str] | list[bytes], blob: str | bytes | None = None) -> int:
        """Append lines (``str``, or UTF-8 ``bytes`` from :meth:`split_bytes`); returns the
        number of old lines dropped. ``blob`` is the lines joined by newlines, if known."""
        if not lines:
            return 0
        if blob is None:
            if isinstance(lines[0], bytes):
                blob = b"\n".join(lines)  # type: ignore[arg-type]
            else:
                lines, blob = self.normalize(lines)  # type: ignore[arg-type]
        self._track_width(lines, blob)
        tail = self._tail
        tail.extend(lines)
        if len(tail) >= CHUNK:
            sealed = len(tail) >> CHUNK_BITS << CHUNK_BITS
            for start in range(0, sealed, CHUNK):
                part = tail[start : start + CHUNK]
                self._chunks.append(_seal(part))
            del tail[:sealed]
        return self._enforce_bound()

    def _track_width(self, lines: list[str] | list[bytes], blob: str | bytes) -> None:
        """Keep ``max_width`` (for horizontal scrolling) cheaply, at C speed.

        ASCII lines are exact. Of the other lines only the longest is measured in cells; the
        viewer widens further if a rendered line turns out wider (:meth:`widen`).
        """
        if isinstance(blob, bytes):
            raw = cast(list[bytes], lines)
            longest = max(raw, key=len)
            widest = len(longest)
            if not blob.isascii():  # bytes overstate CJK widths: measure the longest line
                widest = cell_len(longest.decode("utf-8", "replace"))
            if b"\t" in blob:
                widest += 8 * max(line.count(b"\t") for line in raw)
        else:
            text = cast(list[str], lines)
            widest = max(map(len, text))
            if not blob.isascii():
                wide = list(filterfalse(str.isascii, text))
                if wide:
                    widest = max(widest, cell_len(max(wide, key=len)))
            if "\t" in blob:
                widest += 8 * max(line.count("\t") for line in text)
        if widest > self.max_width:
            self.max_width = widest

    def widen(self, width: int) -> bool:
        """A rendered line was ``width`` cells wide; True if that widened the store."""
        if width > self.max_width:
            self.max_width = width
            return True
        return False

    def _enforce_bound(self) -> int:
        excess = len(self) - self.max_lines
        if excess <= 0:
            return 0
        self._head += excess
        self.dropped += excess
        if self._head >= CHUNK and self._chunks:
            whole = min(self._head >> CHUNK_BITS, len(self._chunks))
            del self._chunks[:whole]
            self._head -= whole << CHUNK_BITS
        if not self._chunks and self._head:
            del self._tail[: self._head]
            self._head = 0
        return excess

    def clear(self) -> None:
        self._chunks.clear()
        self._tail.clear()
        self._head = 0
        self.dropped = 0
        self.max_width = 0

    # -- search ---------------------------------------------------------------------------
    def search(self, matcher: Matcher, limit: int = 100_000) -> list[int]:
        """Absolute numbers of the lines ``matcher`` matches (oldest first), at most ``limit``."""
        found: list[int] = []
        base = self.dropped - self._head  # absolute number of the first chunk's line 0
        for data, offs in self._chunks:
            matcher.scan(data, offs, base, found, limit)
            base += CHUNK
            if len(found) >= limit:
                break
        else:
            tail = self._tail
            skip = max(self._head - (len(self._chunks) << CHUNK_BITS), 0)
            if len(tail) > skip:
                data, offs = _seal(tail[skip:])
                matcher.scan(data, offs, base + skip, found, limit)
        first = self.dropped
        if found and found[0] < first:
            found = found[bisect_right(found, first - 1) :]
        return found


class Matcher:
    """A search query: a literal, smart case (all lower case means case-insensitive).

    :meth:`scan` finds matching lines in a newline-joined blob with ``str.find`` (a C scan that
    is several times faster than ``re`` with ``IGNORECASE``); :meth:`spans` gives the match
    positions inside one line for highlighting.
    """

    def __init__(self, query: str) -> None:
        if not query:
            raise ValueError("empty search query")
        self.query = query
        self.ignore_case = query == query.lower()
        self.needle = query.lower() if self.ignore_case else query
        self.rx = re.compile(re.escape(query), re.IGNORECASE if self.ignore_case else 0)
        self.needle_bytes = self.needle.encode("utf-8")
        # bytes.lower() folds ASCII only: enough unless the needle has non-ASCII cased letters
        # (CJK has no case; "é" or "ошибка" do)
        self.needle_bytes_ok = not self.ignore_case or all(
            c.isascii() or c.upper() == c.lower() for c in self.needle
        )

    def scan(self, blob: str | bytes, offs: array, base: int, out: list[int], limit: int) -> None:
        """Append to ``out`` the absolute numbers of the matching lines of ``blob``.

        ``blob`` is newline-ended lines (``str``, or UTF-8 ``bytes`` for a sealed chunk);
        ``offs`` are the line start offsets in the same unit, with the end appended; ``base``
        is the absolute number of the blob's first line. Each line is counted once.
        """
        if isinstance(blob, bytes):
            if not self.needle_bytes_ok:
                # a non-ASCII needle with case folding: bytes.lower() only folds ASCII
                self._scan_lines(blob, offs, base, out, limit)
                return
            hay: str | bytes = blob.lower() if self.ignore_case else blob
            needle: str | bytes = self.needle_bytes
        else:
            hay = blob.lower() if self.ignore_case else blob
            needle = self.needle
            if len(hay) != len(blob):  # rare Unicode case mappings change lengths
                self._scan_lines(blob, offs, base, out, limit)
                return
        find = hay.find
        last = len(offs) - 1
        pos = 0
        while len(out) < limit:
            i = find(needle, pos)  # type: ignore[arg-type]
            if i < 0:
                return
            line = bisect_right(offs, i) - 1
            if line >= last:
                return
            out.append(base + line)
            pos = offs[line + 1]

    def _scan_lines(
        self, blob: str | bytes, offs: array, base: int, out: list[int], limit: int
    ) -> None:
        search = self.rx.search
        for j in range(len(offs) - 1):
            line = blob[offs[j] : offs[j + 1] - 1]
            if isinstance(line, bytes):
                line = line.decode("utf-8", "replace")
            if search(line):
                out.append(base + j)
                if len(out) >= limit:
                    return

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) character spans of the matches in one line."""
        return [m.span() for m in self.rx.finditer(text)]
