"""Turn files, folders, zips and JSON(L) exports into releases, one problem report per bad input.

Every parser either returns releases or raises ``IngestError`` naming the input and the
reason; ``InputReader`` turns those errors, and parsers that crash or overrun their time
limit, into ``IngestProblem`` items so that one bad file never stops the good ones.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import datetime as dt
import gzip
import hashlib
import io
import itertools
import json
import logging
import multiprocessing
import os
import re
import signal
import stat
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, TimeoutError
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

import yaml
from pebble import ProcessExpired, ProcessPool

from pressqa.errors import ConfigError, IngestError
from pressqa.fsutil import close_inherited_locks
from pressqa.ingest.metadata import (
    WIRE_DATE_LINE,
    clean_field,
    file_doc_id,
    find_dateline,
    first_line,
    normalize_text,
    parse_date,
    wire_distribution_time,
)
from pressqa.ingest.problems import ProblemCap
from pressqa.settings import Settings
from pressqa.types import IngestProblem, Release

log = logging.getLogger(__name__)

MAX_ID_CHARS = 200  # a release id is typed on command lines and carried in every chunk id
RECORD_KEYS = ("id", "title", "date", "source", "url", "text")
RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".json")
STREAMED_SUFFIXES = (".jsonl", ".jsonl.gz")  # read line by line: exports can be far larger than one release
# What reading a file or a zip member can raise besides parse errors (zlib.error and
# EOFError for a damaged member, RuntimeError for an encrypted one).
READ_ERRORS = (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError)


@dataclass(frozen=True, slots=True)
class RecordFields:
    """Which key of a JSON record holds each release field (default: the same name)."""

    mapping: Mapping[str, str] | None = None

    def key(self, field: str) -> str:
        return (self.mapping or {}).get(field, field)

    @classmethod
    def parse(cls, pairs: Iterable[str]) -> RecordFields:
        """From ``FIELD=KEY`` strings, as the CLI's ``--field`` takes them."""
        mapping: dict[str, str] = {}
        for pair in pairs:
            field, sep, key = pair.partition("=")
            if not sep or field not in RECORD_KEYS or not key:
                raise ConfigError(f"--field {pair!r}: expected FIELD=KEY with FIELD one of {', '.join(RECORD_KEYS)}")
            mapping[field] = key
        return cls(mapping)


# ---------------------------------------------------------------- text of one release


def decode_text(data: bytes, origin: str) -> str:
    """Bytes of a text file as str; empty, binary and non-UTF-8 input are errors."""
    if not data.strip():
        raise IngestError(origin, "empty file")
    head = data[:8192]
    control = sum(byte < 32 and byte not in b"\t\n\r\f" for byte in head)
    if b"\x00" in head or control > len(head) * 0.05:
        raise IngestError(origin, "binary data, not text (is the file extension wrong?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise IngestError(
            origin,
            f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "convert it to UTF-8, e.g. iconv -f cp1252 -t utf-8",
        ) from None


def make_release(
    *,
    doc_id: str,
    origin: str,
    text: str,
    title: str | None = None,
    source: str | None = None,
    date: Any = None,
    url: str | None = None,
    distributed_at: dt.datetime | None = None,
    id_from_location: bool = True,
) -> Release:
    body = normalize_text(text)
    if not body:
        raise IngestError(origin, "no text after the headline and metadata")
    doc_id = clean_field(doc_id)
    if not doc_id or len(doc_id) > MAX_ID_CHARS:
        raise IngestError(origin, f"id is {len(doc_id)} characters long; ids need 1 to {MAX_ID_CHARS}")
    url = _NOT_IN_URLS.sub("", url or "")
    return Release(
        doc_id=doc_id,
        title=clean_field(title or "") or first_line(body),
        text=body,
        source=clean_field(source or "") or None,
        date=(parse_date(date) if date else None) or find_dateline(body),
        url=url if re.match(r"https?://", url) else None,
        origin=origin,
        distributed_at=distributed_at,
        id_from_location=id_from_location,
    )


_NOT_IN_URLS = re.compile(r"[\x00-\x20\x7f-\x9f]+")  # spaces and control characters
_HEADER_FIELD = re.compile(r"^(title|headline|source|issuer|date|url|link):\s*(.+)$", re.IGNORECASE)
_HEADER_NAMES = {"headline": "title", "issuer": "source", "link": "url"}


def parse_plain_text(text: str, *, doc_id: str, origin: str, **known: Any) -> Release:
    """A release from plain text in one of three layouts, tried in this order.

    1. Wire copy: issuer line, a ``MM/DD/YYYY | Press release | ...`` line, headline, body.
    2. A block of ``Title:``/``Source:``/``Date:``/``URL:`` lines, a blank line, the body.
    3. Anything else: the first line is the headline when it is short and unpunctuated,
       and the date is the first full date in the opening lines.

    ``known`` metadata (e.g. a PDF's title and author) fills what the text leaves open.
    """
    text = normalize_text(text)
    lines = text.split("\n")
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if len(nonblank) >= 3 and (wire := WIRE_DATE_LINE.match(lines[nonblank[1]])):
        title_at = nonblank[2]
        return make_release(
            doc_id=doc_id,
            origin=origin,
            text="\n".join(lines[title_at + 1 :]),
            title=lines[title_at],
            source=lines[nonblank[0]],
            date=wire.group(1),
            url=known.get("url"),
            distributed_at=wire_distribution_time(lines[nonblank[1]]),
        )
    header: dict[str, str] = {}
    header_lines = 0
    for line in lines:
        field = _HEADER_FIELD.match(line.strip())
        if not field:
            break
        name = field.group(1).lower()
        header.setdefault(_HEADER_NAMES.get(name, name), field.group(2).strip())
        header_lines += 1
    if "title" in header:
        body = "\n".join(lines[header_lines:])
        return make_release(doc_id=doc_id, origin=origin, text=body, **{**known, **header})
    first = lines[nonblank[0]].strip() if nonblank else ""
    is_headline = len(nonblank) > 1 and len(first) <= 200 and not first.endswith((".", ",", ";"))
    title = first if is_headline else known.get("title")
    body = "\n".join(lines[nonblank[0] + 1 :]) if is_headline else text
    return make_release(
        doc_id=doc_id,
        origin=origin,
        text=body,
        title=title,
        source=known.get("source"),
        date=known.get("date"),
        url=known.get("url"),
    )


def parse_markdown(text: str, *, doc_id: str, origin: str) -> Release:
    """Markdown with optional YAML front matter (title, source, date, url) and ``# Headline``."""
    text = normalize_text(text)
    meta: dict[str, Any] = {}
    front = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    if front:
        try:
            loaded = yaml.safe_load(front.group(1))
        except yaml.YAMLError as err:
            raise IngestError(origin, f"front matter is not valid YAML: {err}") from None
        if not isinstance(loaded, dict):
            raise IngestError(origin, "front matter must be a mapping of keys to values")
        meta = {_HEADER_NAMES.get(str(k).lower(), str(k).lower()): v for k, v in loaded.items()}
        text = text[front.end() :]
    heading = re.match(r"\s*#\s+(.+)\n", text)
    title = meta.get("title")
    if heading and (title is None or heading.group(1).strip() == str(title).strip()):
        title = heading.group(1)
        text = text[heading.end() :]
    return make_release(
        doc_id=doc_id,
        origin=origin,
        text=text,
        title=str(title) if title is not None else None,
        source=_optional_str(meta.get("source")),
        date=meta.get("date"),
        url=_optional_str(meta.get("url")),
    )


def parse_html(text: str, *, doc_id: str, origin: str) -> Release:
    """Main text and metadata of an HTML page, by trafilatura (menus and footers dropped)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    extracted = document.as_dict() if document is not None else {}  # type: ignore[union-attr]
    if not (extracted.get("text") or "").strip():
        raise IngestError(origin, "no main text found in the HTML page")
    # trafilatura puts one paragraph per line; blank lines keep paragraphs apart for chunking.
    body = re.sub(r"\n+", "\n\n", extracted["text"])
    return make_release(
        doc_id=doc_id,
        origin=origin,
        text=body,
        title=extracted.get("title"),
        source=extracted.get("sitename") or extracted.get("author"),
        date=extracted.get("date"),
        url=extracted.get("url"),
    )


def parse_pdf(data: bytes, *, doc_id: str, origin: str) -> Release:
    """Text layer of a PDF (pypdf), read like a plain-text release; PDF metadata fills gaps."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info: Mapping[str, Any] = reader.metadata or {}
    except (PyPdfError, ValueError, KeyError, TypeError) as err:
        raise IngestError(origin, f"corrupt or unreadable PDF ({err})") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise IngestError(origin, "PDF has no text layer (scanned image?); run OCR on it first")
    return parse_plain_text(
        text,
        doc_id=doc_id,
        origin=origin,
        title=_optional_str(info.get("/Title")),
        source=_optional_str(info.get("/Author")),
    )


def _optional_str(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


# ---------------------------------------------------------------- JSON records


def parse_record(obj: Any, *, origin: str, fields: RecordFields, id_prefix: str) -> Release:
    """A release from one JSON object with the keys ``id, title, date, source, url, text``.

    A record without an id gets one from its file's id and its text, so it keeps that id
    when lines are added around it and cannot collide with a record of another file.
    """
    if not isinstance(obj, dict):
        raise IngestError(origin, f"expected a JSON object, got {type(obj).__name__}")
    values: dict[str, Any] = {}
    for field in RECORD_KEYS:
        value = obj.get(fields.key(field))
        if field == "id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            raise IngestError(origin, f"key '{fields.key(field)}' must be a string, got {type(value).__name__}")
        values[field] = value
    if not (values["text"] or "").strip():
        raise IngestError(origin, f"record has no text (key '{fields.key('text')}')")
    return make_release(
        doc_id=values["id"] or f"{id_prefix}-{hashlib.sha1(values['text'].encode()).hexdigest()[:10]}",
        origin=origin,
        text=values["text"],
        title=values["title"],
        source=values["source"],
        date=values["date"],
        url=values["url"],
        id_from_location=not values["id"],
    )


class _CountingReader:
    """A binary stream that counts the bytes read from it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:  # gzip only seeks to rewind, which lines never do
        return self._stream.seek(offset, whence)


class BoundedGzipLines:
    """Lines of a gzip stream, decompressed as they are read; reading past ``ratio`` times
    the compressed bytes (plus ``allowance``) is an error, as a zip member over that ratio
    is refused: a small gzip of blank lines can expand without end."""

    def __init__(self, stream: IO[bytes], ratio: float, allowance: int) -> None:
        self._compressed = _CountingReader(stream)
        self._lines = gzip.GzipFile(mode="rb", fileobj=self._compressed)
        self._ratio = ratio
        self._allowance = allowance

    def readline(self, size: int = -1) -> bytes:
        return self._checked(self._lines.readline(size))

    def read(self, size: int = -1) -> bytes:
        return self._checked(self._lines.read(size))

    def _checked(self, data: bytes) -> bytes:
        if self._lines.tell() > self._ratio * self._compressed.count + self._allowance:
            raise OSError(f"decompresses to over {self._ratio:.0f} times its size (gzip bomb?)")
        return data


class ByteStream(Protocol):
    """What reading an export needs of a stream: a file, a zip member or a BoundedGzipLines."""

    def read(self, size: int = -1, /) -> bytes: ...
    def readline(self, size: int = -1, /) -> bytes: ...


def jsonl_lines(stream: ByteStream, *, name: str, max_bytes: int) -> Iterator[tuple[int, bytes] | IngestProblem]:
    """Numbered non-blank lines of a JSONL stream, read one by one so that a large export
    never sits in memory; a line over ``max_bytes`` is a problem."""
    number = 0
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield IngestProblem(f"{name}:{number}", f"line {number} is longer than the {max_bytes} byte limit")
        elif line.strip():
            yield number, line


def parse_jsonl_line(
    number: int, line: bytes, *, name: str, id_prefix: str, fields: RecordFields
) -> Release | IngestProblem:
    origin = f"{name}:{number}"
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        return IngestProblem(origin, f"line {number} is not valid JSON ({type(err).__name__}: {err})")
    try:
        return parse_record(obj, origin=origin, fields=fields, id_prefix=id_prefix)
    except IngestError as err:
        return IngestProblem(err.path, f"line {number}: {err.reason}")
    except Exception as err:  # a bug on one odd record must not stop the run
        log.warning("parser failed on %s", origin, exc_info=True)
        return IngestProblem(origin, f"line {number}: could not parse ({type(err).__name__}: {err})")


def read_json(data: bytes, *, name: str, id_prefix: str, fields: RecordFields) -> Iterator[Release | IngestProblem]:
    try:
        loaded = json.loads(decode_text(data, name))
    except json.JSONDecodeError as err:
        yield IngestProblem(name, f"not valid JSON ({err})")
        return
    records = loaded if isinstance(loaded, list) else [loaded]
    problems = ProblemCap(name)  # an array can hold millions of bad records
    for number, obj in enumerate(records, 1):
        try:
            yield parse_record(obj, origin=f"{name}[{number}]", fields=fields, id_prefix=id_prefix)
        except IngestError as err:
            problems.add(IngestProblem(err.path, f"record {number}: {err.reason}"))
    yield from problems.lines()


# ---------------------------------------------------------------- files, folders, zips

DocumentParser = Callable[[bytes, str, str], Release]


def _text_parser(parse: Callable[..., Release]) -> DocumentParser:
    return lambda data, doc_id, origin: parse(decode_text(data, origin), doc_id=doc_id, origin=origin)


DOCUMENT_PARSERS: dict[str, DocumentParser] = {
    ".txt": _text_parser(parse_plain_text),
    ".md": _text_parser(parse_markdown),
    ".markdown": _text_parser(parse_markdown),
    ".html": _text_parser(parse_html),
    ".htm": _text_parser(parse_html),
    ".pdf": lambda data, doc_id, origin: parse_pdf(data, doc_id=doc_id, origin=origin),
}
SUPPORTED_SUFFIXES = (*DOCUMENT_PARSERS, *RECORD_SUFFIXES, ".zip")


@dataclass(frozen=True, slots=True)
class ParseJob:
    """What one worker parses: a file or zip member's bytes, or a block of JSONL lines."""

    origin: str
    suffix: str
    doc_id: str  # the file's id; JSON records without an id get ids prefixed with it
    data: bytes = b""
    lines: tuple[tuple[int, bytes], ...] = ()  # JSONL: (line number, line)

    def one_per_line(self) -> list[ParseJob]:
        return [dataclasses.replace(self, lines=(line,)) for line in self.lines]


def parse_job(job: ParseJob, fields: RecordFields) -> list[Release | IngestProblem]:
    """Run in a worker process: the releases of a job, or the problems with it."""
    if job.suffix == ".jsonl":
        return [
            parse_jsonl_line(number, line, name=job.origin, id_prefix=job.doc_id, fields=fields)
            for number, line in job.lines
        ]
    try:
        if job.suffix == ".json":
            return list(read_json(job.data, name=job.origin, id_prefix=job.doc_id, fields=fields))
        return [DOCUMENT_PARSERS[job.suffix](job.data, job.doc_id, job.origin)]
    except IngestError as err:
        return [IngestProblem(err.path, err.reason)]
    except Exception as err:  # a parser bug on one odd file must not stop the run
        log.warning("parser failed on %s", job.origin, exc_info=True)
        return [IngestProblem(job.origin, f"could not parse ({type(err).__name__}: {err})")]


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies

# JSONL lines parsed per job: enough to amortise the trip to a worker, few enough that
# the time limit (which then applies to the block) is still generous for each record.
LOCAL_HEADER_BYTES = 30  # the fixed part of a zip entry's local header
JSONL_BLOCK_LINES = 256
JSONL_BLOCK_BYTES = 4 << 20


class InputReader:
    """Walks the paths given to an ingest and yields a release or a problem for each input.

    The walk, the reads and the size checks happen here; parsing happens in worker
    processes (``parse_workers``), each file under a time limit (``parse_timeout_s``), so
    that parsing overlaps the embedding and a file that hangs its parser is killed and
    reported instead of stopping the run.  Results come back in input order.
    """

    def __init__(self, settings: Settings, fields: RecordFields | None = None) -> None:
        self.max_bytes = settings.max_bytes
        self.max_zip_ratio = settings.max_zip_ratio
        self.max_zip_entries = settings.max_zip_entries
        self.max_zip_bytes = int(settings.max_zip_total_mb * 1024 * 1024)
        self.timeout = settings.parse_timeout_s
        self.workers = settings.parse_workers
        self.fields = fields or RecordFields()

    def read(self, paths: Iterable[Path]) -> Iterator[Release | IngestProblem]:
        return self.parse(self._jobs(paths))

    def parse(self, jobs: Iterable[ParseJob | IngestProblem]) -> Iterator[Release | IngestProblem]:
        """The releases of parse jobs (a sync's fetched pages, or the files ``read`` walks),
        parsed in the worker processes under the time limit; problems pass through."""
        import pypdf  # noqa: F401  imported once here, so each forked worker (and each one
        import trafilatura  # noqa: F401  started after a kill) has them without the wait

        pool = ProcessPool(
            max_workers=self.workers, initializer=_start_worker, initargs=(os.getpid(),), context=_worker_context()
        )
        queued: collections.deque[IngestProblem | tuple[ParseJob, Future[list[Release | IngestProblem]]]]
        queued = collections.deque()
        try:
            for job in jobs:
                queued.append(job if isinstance(job, IngestProblem) else (job, self._schedule(pool, job)))
                if len(queued) > 4 * self.workers:  # bounds the bytes waiting in memory
                    yield from self._results(pool, queued.popleft())
            while queued:
                yield from self._results(pool, queued.popleft())
        finally:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join()

    def _schedule(self, pool: ProcessPool, job: ParseJob) -> Future[list[Release | IngestProblem]]:
        return pool.schedule(parse_job, args=(job, self.fields), timeout=self.timeout)

    def _results(
        self, pool: ProcessPool, queued: IngestProblem | tuple[ParseJob, Future[list[Release | IngestProblem]]]
    ) -> Iterator[Release | IngestProblem]:
        if isinstance(queued, IngestProblem):
            yield queued
            return
        job, future = queued
        try:
            yield from future.result()
            return
        except TimeoutError:
            reason = f"parsing took longer than {self.timeout:g} s (setting parse_timeout_s); skipped"
        except ProcessExpired as err:  # the parser crashed its process (e.g. out of memory)
            reason = f"the parser's process died (exit code {err.exitcode}); skipped"
        except Exception as err:  # the pool itself failed; the input is still the one to name
            log.warning("parsing %s failed in the worker pool", job.origin, exc_info=True)
            reason = f"could not parse ({type(err).__name__}: {err})"
        if len(job.lines) > 1:  # find the bad record: each line alone, under its own limit
            singles = [(single, self._schedule(pool, single)) for single in job.one_per_line()]
            for single in singles:
                yield from self._results(pool, single)
            return
        yield IngestProblem(f"{job.origin}:{job.lines[0][0]}" if job.lines else job.origin, reason)

    def count(self, paths: Iterable[Path]) -> int:
        """A quick estimate of how many releases ``read`` will yield, for progress bars."""
        total = 0
        for path in paths:
            for file in _files_under(path) if path.is_dir() else [path]:
                if isinstance(file, IngestProblem):
                    total += 1
                    continue
                suffix = file_suffix(file.name)
                try:
                    if suffix in STREAMED_SUFFIXES:
                        with file.open("rb") as stream:
                            total += _count_lines(self._decompressed(stream, suffix))
                    elif suffix == ".zip":
                        with zipfile.ZipFile(file) as pack:
                            total += sum(not info.is_dir() for info in pack.infolist())
                    else:
                        total += 1
                except (OSError, EOFError, zlib.error, zipfile.BadZipFile):
                    total += 1
        return total

    def _jobs(self, paths: Iterable[Path]) -> Iterator[ParseJob | IngestProblem]:
        # Origins are absolute, so that the registry can tell later whether a file is still there.
        for path in map(Path.absolute, paths):
            if not path.exists():
                yield IngestProblem(str(path), "no such file or directory")
            elif path.is_dir():
                for file in _files_under(path):
                    if isinstance(file, IngestProblem):
                        yield file
                    else:
                        yield from self._file_jobs(file)
            else:
                yield from self._file_jobs(path)

    def _file_jobs(self, path: Path) -> Iterator[ParseJob | IngestProblem]:
        suffix = file_suffix(path.name)
        if suffix == ".zip":
            yield from self._zip_jobs(path)
        else:
            yield from self._entry_jobs(
                str(path), suffix, lambda: path.stat().st_size, lambda: path.open("rb"), file_doc_id(path)
            )

    def _zip_jobs(self, path: Path) -> Iterator[ParseJob | IngestProblem]:
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as err:
            yield IngestProblem(str(path), f"not a readable zip file ({err})")
            return
        with archive:
            refused = self._refused_zip(archive)
            if refused:
                yield IngestProblem(str(path), refused)
                return
            for info in archive.infolist():
                member = PurePosixPath(info.filename)
                origin = f"{path}!{info.filename}"
                if member.is_absolute() or ".." in member.parts:
                    yield IngestProblem(origin, "unsafe path in zip (absolute or with '..'); skipped")
                elif stat.S_ISLNK(info.external_attr >> 16):
                    yield IngestProblem(origin, "symbolic link in zip (its target is not read); skipped")
                elif info.is_dir() or any(part.startswith((".", "__MACOSX")) for part in member.parts):
                    continue
                elif file_suffix(member.name) == ".zip":
                    yield IngestProblem(origin, "zip files inside a zip are not read; unpack the outer one first")
                elif info.compress_size and info.file_size / info.compress_size > self.max_zip_ratio:
                    yield IngestProblem(
                        origin,
                        f"compression ratio {info.file_size / info.compress_size:.0f}:1 is above "
                        f"the {self.max_zip_ratio:.0f}:1 limit (zip bomb?)",
                    )
                else:
                    yield from self._entry_jobs(
                        origin,
                        file_suffix(member.name),
                        lambda info=info: info.file_size,  # type: ignore[misc]
                        lambda info=info: archive.open(info),  # type: ignore[misc]
                        file_doc_id(path, info.filename),
                    )

    def _refused_zip(self, archive: zipfile.ZipFile) -> str | None:
        """Why a zip is refused as a whole: too many entries, too large once unpacked, or
        entries that share their bytes (one compressed block listed many times over)."""
        entries = archive.infolist()
        if len(entries) > self.max_zip_entries:
            return f"zip holds {len(entries)} entries, over the {self.max_zip_entries} limit (setting max_zip_entries)"
        unpacked = sum(info.file_size for info in entries)
        if unpacked > self.max_zip_bytes:
            return (
                f"zip unpacks to {unpacked / 1e6:.1f} MB, over the {self.max_zip_bytes / 1e6:.1f} MB limit "
                "(setting max_zip_total_mb)"
            )
        ordered = sorted(entries, key=lambda info: info.header_offset)
        for entry, following in itertools.pairwise(ordered):
            # A local entry is a 30-byte header, the name and the compressed data.
            if following.header_offset < entry.header_offset + LOCAL_HEADER_BYTES + entry.compress_size:
                return (
                    f"zip entries {entry.filename!r} and {following.filename!r} overlap (one compressed block "
                    "listed twice: a zip bomb?)"
                )
        return None

    def _entry_jobs(
        self,
        origin: str,
        suffix: str,
        size: Callable[[], int],
        open_stream: Callable[[], IO[bytes]],
        doc_id: str,
    ) -> Iterator[ParseJob | IngestProblem]:
        """One file or zip member, read within the size limits; any read error becomes a problem."""
        if suffix not in DOCUMENT_PARSERS and suffix not in RECORD_SUFFIXES:
            yield IngestProblem(origin, _unsupported(suffix))
            return
        try:
            if suffix in STREAMED_SUFFIXES:
                with open_stream() as stream:
                    yield from self._jsonl_jobs(self._decompressed(stream, suffix), origin, doc_id)
                return
            if size() > self.max_bytes:
                yield IngestProblem(origin, _too_large(size(), self.max_bytes))
                return
            with open_stream() as stream:
                data = stream.read(self.max_bytes + 1)
        except READ_ERRORS as err:
            yield IngestProblem(origin, f"cannot read ({type(err).__name__}: {err})")
            return
        if len(data) > self.max_bytes:  # a zip header can lie about the size
            yield IngestProblem(origin, _too_large(len(data), self.max_bytes))
        else:
            yield ParseJob(origin, suffix, doc_id, data=data)

    def _decompressed(self, stream: IO[bytes], suffix: str) -> ByteStream:
        """An export's bytes; a gzipped one is decompressed as it is read, within the ratio limit."""
        return (
            BoundedGzipLines(stream, self.max_zip_ratio, allowance=self.max_bytes) if suffix == ".jsonl.gz" else stream
        )

    def _jsonl_jobs(self, stream: ByteStream, origin: str, doc_id: str) -> Iterator[ParseJob | IngestProblem]:
        block: list[tuple[int, bytes]] = []
        size = 0
        try:
            for line in jsonl_lines(stream, name=origin, max_bytes=self.max_bytes):
                if isinstance(line, IngestProblem):  # after the lines before it, to keep the order
                    if block:
                        yield ParseJob(origin, ".jsonl", doc_id, lines=tuple(block))
                        block, size = [], 0
                    yield line
                    continue
                block.append(line)
                size += len(line[1])
                if len(block) == JSONL_BLOCK_LINES or size >= JSONL_BLOCK_BYTES:
                    yield ParseJob(origin, ".jsonl", doc_id, lines=tuple(block))
                    block, size = [], 0
        except READ_ERRORS:  # a damaged stream: the records read before the damage still count
            if block:
                yield ParseJob(origin, ".jsonl", doc_id, lines=tuple(block))
            raise
        if block:
            yield ParseJob(origin, ".jsonl", doc_id, lines=tuple(block))


def _start_worker(parent: int) -> None:
    """In each new worker: die with the ingest process, and hold none of its locks."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    close_inherited_locks()


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers are forked, as PyTorch's DataLoader workers are: unlike spawn and forkserver,
    a fork does not run the caller's main script again in each worker, and a worker only
    parses (it touches none of the parent's threads: torch, Chroma, a web server)."""
    # The tokenizers library warns in each forked child unless this is set; true is its default.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    return multiprocessing.get_context("fork")


def _files_under(folder: Path) -> list[Path | IngestProblem]:
    """The files of a folder and its subfolders, hidden ones left out, sorted.

    Symbolic links are not followed: one to a place outside the folder (``leak.txt ->
    /etc/passwd``) is reported, and one within it is read at the place it points to.
    """
    root = folder.resolve()
    found: list[Path | IngestProblem] = []
    for top, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in [*folders, *files]:
            path = Path(top, name)
            if path.is_symlink():
                try:
                    target = path.resolve(strict=False)
                except (RuntimeError, OSError) as err:  # a loop of links
                    found.append(IngestProblem(str(path), f"symbolic link that cannot be followed ({err}); skipped"))
                    continue
                if not target.is_relative_to(root):
                    found.append(IngestProblem(str(path), f"symbolic link to {target}, outside {folder}; skipped"))
            elif name in files and not name.startswith(".") and path.is_file():
                found.append(path)
    return sorted(found, key=lambda item: Path(item.path) if isinstance(item, IngestProblem) else item)


def file_suffix(name: str) -> str:
    """The file type a name declares: its last suffix, or ``.jsonl.gz`` for a gzipped export."""
    lowered = name.lower()
    return ".jsonl.gz" if lowered.endswith(".jsonl.gz") else PurePosixPath(lowered).suffix


def _count_lines(stream: ByteStream) -> int:
    lines, last = 0, b"\n"
    for block in iter(lambda: stream.read(1 << 20), b""):
        lines += block.count(b"\n")
        last = block[-1:]
    return lines + (last != b"\n")


def _too_large(size: int, limit: int) -> str:
    return f"file is {size / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit (setting max_file_mb)"


def _unsupported(suffix: str) -> str:
    return f"unsupported file type '{suffix or '(none)'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
