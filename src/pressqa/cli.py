"""The ``pressqa`` command: one subcommand = one Archive call + formatting."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pressqa import Answer, AnswerStream, Archive, ConfigError, PressQAError, RecordFields, Settings, present
from pressqa.answer.timeline import TIMELINE_ITEMS
from pressqa.llms.backends import load_llm
from pressqa.query.timeparse import DATE_FORMS, typed_span
from pressqa.settings import load_settings
from pressqa.sync.book import DEFAULT_EVERY, every_label
from pressqa.types import IngestProgress, IngestReport, SyncReport, printable

EXIT_ERROR = 1
EXIT_SOME_INPUTS_FAILED = 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command whose reader left


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(value: Any) -> None:
    data = dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else value
    print(json.dumps(data, indent=2, default=_json_default, ensure_ascii=False))


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "device", None):
        overrides["device"] = args.device
    if args.chroma_url:
        overrides["chroma_url"] = args.chroma_url
    return load_settings(**overrides)


def _open(args: argparse.Namespace, *, create: bool = False) -> Archive:
    return Archive.open(args.archive, settings=_settings(args), create=create)


class _ProgressBar:
    """tqdm bar over releases, with chunks/s beside the releases/s rate."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(unit="release", dynamic_ncols=True, file=sys.stderr)

    def __call__(self, event: IngestProgress) -> None:
        # The total is an estimate (a zip member may hold many records); never show over 100%.
        self._bar.total = max(event.releases_total or 0, event.releases_seen) or None
        self._bar.update(event.releases_seen - self._bar.n)
        elapsed = self._bar.format_dict["elapsed"] or 1e-9
        self._bar.set_postfix_str(f"{event.chunks_written} chunks, {event.chunks_written / elapsed:.1f} chunks/s")

    def close(self) -> None:
        self._bar.close()


def cmd_ingest(args: argparse.Namespace) -> int:
    fields = RecordFields.parse(args.field)
    with _open(args, create=True) as archive:
        bar = None if args.quiet or args.json else _ProgressBar()
        try:
            report = archive.ingest(args.paths, fields=fields, progress=bar)
        finally:
            if bar:
                bar.close()
    if args.json:
        print_json(report)
    else:
        print(format_report(report, archive.path))
    return EXIT_SOME_INPUTS_FAILED if report.failed_count else 0


def format_report(report: IngestReport, archive: Path) -> str:
    chunks_per_s = report.chunks_added / report.seconds if report.seconds else 0.0
    lines = [
        f"Archive {archive}: {present.report_counts(report)} ({report.chunks_added} chunks written, "
        f"{report.chunks_removed} removed, {report.seconds:.1f} s, {chunks_per_s:.1f} chunks/s)"
    ]
    if report.undated:
        lines.append(
            f"{len(report.undated)} release(s) have no publication date: {', '.join(report.undated[:5])}"
            + (" ..." if len(report.undated) > 5 else "")
        )
    for link in report.duplicates:
        lines.append(f"duplicate ({link.kind}, {link.similarity:.2f}): {link.doc_id} -> copy of {link.canonical_id}")
    lines += [f"NOTE {note.shown()}" for note in report.notes]
    lines += [f"FAILED {problem.shown()}" for problem in report.failed]
    if report.unlisted:
        lines.append(f"... {present.unlisted_heading(report)}")
        lines += [f"  {count:8d}  {printable(kind)}" for kind, count in report.failure_reasons.items()]
    return "\n".join(lines)


def cmd_stats(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        stats = archive.stats()
    if args.json:
        print_json(stats)
        return 0
    span = f"{stats.first_date} to {stats.last_date}" if stats.first_date else "no dated releases"
    print(f"Archive {archive.path}")
    print(f"  releases: {stats.releases} ({stats.duplicates} duplicates, {stats.undated} undated)")
    print(f"  chunks:   {stats.chunks}")
    print(f"  dates:    {span}")
    print(f"  size:     {stats.bytes_on_disk / 1e6:.1f} MB on disk; model {stats.embedding_model}")
    print("  issuers:")
    for issuer, count in stats.issuers.items():
        print(f"    {count:6d}  {issuer}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    if args.force and not args.repair:
        raise ConfigError("--force goes with --repair")
    with Archive.open(args.archive, settings=_settings(args), create=False, for_check=True) as archive:
        result = archive.check(repair=args.repair, force=args.force)
    if args.json:
        print_json(result)
    else:
        for problem in result.problems:
            print(("repaired: " if problem in result.repaired else "PROBLEM: ") + problem)
        print(f"Archive {archive.path}: " + ("consistent" if result.ok else f"{len(result.remaining)} problem(s) left"))
        if not result.ok and not args.repair:
            print("pressqa check --repair puts right what it can")
    return 0 if result.ok else EXIT_ERROR


def cmd_delete(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        removed = archive.delete(*args.doc_ids)
    print(f"deleted {', '.join(args.doc_ids)} ({removed} chunks)")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    limits = {"since": args.since, "until": args.until, "sources": args.source, "as_of": args.as_of}
    with _open(args) as archive:
        plan = archive.plan(args.query, **limits)
        hits = archive.search(plan, k=args.k)
    if args.json:
        print_json({"plan": dataclasses.asdict(plan), "hits": [dataclasses.asdict(hit) for hit in hits]})
        return 0
    understood = present.plan_lines(plan)
    if understood:
        print("\n".join(understood) + "\n")
    if not hits:
        print("No release in the archive matches.")
    for number, hit in enumerate(hits, 1):
        print(f"[{number}] {hit.title}")
        print(f"    {present.issuer_label(hit.source)} | {present.date_label(hit.date)} | {hit.url or hit.doc_id}")
        if hit.copies:
            print(f"    copies: {', '.join(hit.copies)}")
        print(textwrap.indent(textwrap.fill(hit.text, 96), "    > "))
        print()
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    options = _answer_options(args)
    with _open(args) as archive:
        if args.json:
            print_json(archive.ask(args.question, **options))
            return 0
        stream = archive.ask_stream(args.question, **options)
        print_answer(stream)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    options = _answer_options(args)
    messages: list[dict[str, str]] = []
    with _open(args) as archive:
        print("Ask about the archive; follow-ups may lean on earlier questions. Empty line or Ctrl-D ends.")
        while True:
            try:
                question = input("\nyou> ").strip()
            except EOFError:
                print()
                return 0
            if not question:
                return 0
            messages.append({"role": "user", "content": question})
            stream = archive.chat_stream(messages, **options)
            print("pressqa> ", end="")
            answer = print_answer(stream)
            messages.append({"role": "assistant", "content": answer.text})


def cmd_serve(args: argparse.Namespace) -> int:
    auth = None
    if args.auth:
        user, _, password = args.auth.partition(":")
        if not user or not password:
            raise ConfigError("--auth needs USER:PASSWORD")
        auth = (user, password)
    from pressqa.ui.app import serve

    try:
        app, url = serve(
            args.archive,
            settings=_settings(args),
            host=args.host,
            port=args.port,
            auth=auth,
            llm=args.llm,
            insecure=args.insecure,
            allowed_hosts=args.allow_host,
            sync=args.sync,
        )
    except OSError as err:  # the port is taken, or the address is not this machine's
        raise ConfigError(f"cannot serve on {args.host}:{args.port}: {err}") from None
    print(f"pressqa: serving {url} (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    app.close()
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    with _open(args, create=args.action == "add") as archive:
        if args.action == "add":
            source = archive.sources.add(args.location, name=args.name, every=args.every, issuer=args.issuer)
            print(f"added source {source.name}: {source.location} (every {every_label(source.every)}); "
                  f"`pressqa sync --archive {archive.path}` fetches it now")  # fmt: skip
            return 0
        if args.action == "remove":
            source = archive.sources.remove(args.name)
            print(f"removed source {source.name} ({source.location}); its releases stay in the archive")
            return 0
        sources = archive.sources.list()
    if args.json:
        print_json([dataclasses.asdict(source) for source in sources])
        return 0
    if not sources:
        print("No sources yet: pressqa sources add URL|FOLDER [--every 1h] [--issuer NAME]")
    for source in sources:
        print(f"{source.name}  {source.location}")
        found = f", found {source.found}" if source.found else ""
        issuer = f", issuer {source.issuer}" if source.issuer else ""
        print(f"    every {every_label(source.every)}{issuer}{found}")
        print(f"    {present.last_sync(source)}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    with _open(args) as archive:
        reports = archive.sync(args.source)
        if not reports and not args.watch:
            print("No sources to sync: pressqa sources add URL|FOLDER [--every 1h] [--issuer NAME]")
        for report in reports:
            _print_sync(report, args.json)
        if not args.watch:
            return EXIT_SOME_INPUTS_FAILED if any(report.failed for report in reports) else 0
        from pressqa.sync.schedule import watch

        print("pressqa: watching the folder sources and syncing web sources when due (Ctrl-C stops)", file=sys.stderr)
        stop = threading.Event()
        try:
            watch(archive, stop, lambda report: _print_sync(report, args.json))
        except KeyboardInterrupt:
            stop.set()
    return 0


def _print_sync(report: SyncReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(dataclasses.asdict(report), default=_json_default, ensure_ascii=False), flush=True)
        return
    print(f"{report.source}: {present.sync_counts(report)}")
    for url in report.undated:
        print(f"  undated (stored without a publication date): {printable(url)}")
    for problem in report.failed:
        print(f"  FAILED {problem.shown()}")
    if report.left:
        print(f"  {report.left} page(s) left for the next sync (PRESSQA_SYNC_MAX_PAGES)")
    sys.stdout.flush()


def cmd_eval(args: argparse.Namespace) -> int:
    from pressqa.eval import corpus_archive, load_questions, run
    from pressqa.eval.report import compare, table, write

    if args.target[0] == "compare":
        if len(args.target) != 3:
            raise ConfigError("usage: pressqa eval compare BEFORE/report.json AFTER/report.json")
        try:
            before, after = (json.loads(Path(path).read_text()) for path in args.target[1:])
        except (OSError, ValueError) as err:
            raise ConfigError(f"cannot read the reports to compare: {err}") from None
        print(compare(before, after))
        return 0
    if len(args.target) != 1:
        raise ConfigError("give one question file (or: pressqa eval compare A/report.json B/report.json)")
    if args.archive and args.corpus:
        raise ConfigError("give --archive or --corpus, not both")
    questions = load_questions(Path(args.target[0]))
    path = args.archive or (corpus_archive(args.corpus) if args.corpus else None)
    with Archive.open(path, settings=_settings(args), create=bool(args.corpus)) as archive:
        if args.corpus:
            ingested = archive.ingest([args.corpus], progress=None if args.quiet else _ProgressBar())
            if ingested.failed_count:
                print(format_report(ingested, archive.path), file=sys.stderr)
        judge = load_llm(args.judge) if args.judge else None
        report = run(archive, questions, llm=args.llm, judge=judge, questions_file=args.target[0])
    print(table(report))
    unresolved = sorted({reference for result in report.results for reference in result.unresolved})
    if unresolved:
        print(
            f"pressqa: warning: {len(unresolved)} evidence reference(s) name no release of the archive, so their "
            f"questions are left out of hit@k, mrr@10 and citation_recall: {', '.join(unresolved[:10])}",
            file=sys.stderr,
        )
    paths = write(report, args.out)
    print("\nwrote " + ", ".join(str(path) for path in paths))
    return 0


def _answer_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "since": args.since, "until": args.until, "sources": args.source, "as_of": args.as_of, "k": args.k,
        "llm": args.llm, "limit": args.limit,
    }  # fmt: skip


def print_answer(stream: AnswerStream) -> Answer:
    """Print the answer as it passes its checks, then its sources."""
    for piece in stream:  # one checked sentence at a time
        print(textwrap.fill(piece.strip(), 96), flush=True)
    print()
    answer = stream.answer
    if answer.asked:
        print(f"(read as: {answer.question})")
    if answer.timeline is not None and not answer.timeline.complete:
        print(f"(showing {len(answer.timeline.items)} of {answer.timeline.matched} releases; --limit 0 shows all)\n")
    understood = present.plan_lines(answer.plan) if answer.plan else []
    if understood:
        print("\n".join(understood) + "\n")
    if answer.abstained:
        if answer.hits:
            print("Closest releases:")
        for hit in answer.hits:
            print(f"  - {present.release_line(hit.source, hit.date, hit.title)} {hit.url or hit.doc_id}")
        return answer
    print("Sources:")
    for citation in answer.citations:
        where = citation.url or citation.doc_id
        print(f"[{citation.number}] {citation.title}")
        print(f"    {present.issuer_label(citation.source)} | {present.date_label(citation.date)} | {where}")
        print(textwrap.indent(textwrap.fill(f'"{citation.quote}"', 92), "    "))
        if citation.copies:
            print(f"    copies: {', '.join(citation.copies)}")
    return answer


def first_day(value: str) -> dt.date:
    """``--since``: the first day of a typed day, month or year."""
    return _typed(value)[0]


def last_day(value: str) -> dt.date:
    """``--until``, ``--as-of``: the last day of a typed day, month or year."""
    return _typed(value)[1]


def _typed(value: str) -> tuple[dt.date, dt.date]:
    try:
        return typed_span(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pressqa",
        description="Question answering over press-release archives, with citations.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  pressqa ingest releases/ --archive my-archive\n  pressqa stats --archive my-archive",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the library does")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], summary: str, example: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_archive_options(sub, None)
        sub.set_defaults(handler=handler)
        return sub

    ingest = command(
        "ingest",
        cmd_ingest,
        "Ingest releases (.txt .md .html .pdf .json .jsonl .jsonl.gz, folders, .zip) into an archive.",
        "pressqa ingest ingest/sample-archive exports/doj.jsonl --archive my-archive",
    )
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH_OR_FILE")
    ingest.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="FIELD=KEY",
        help="JSON(L) key holding a release field, e.g. --field text=body --field title=headline",
    )
    ingest.add_argument("--device", help="torch device for embedding (cpu, cuda); default $PRESSQA_DEVICE or cpu")
    ingest.add_argument("--json", action="store_true", help="print the ingest report as JSON")
    ingest.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    stats = command(
        "stats",
        cmd_stats,
        "Show releases, chunks, issuers, date range and size of an archive.",
        "pressqa stats --archive my-archive --json",
    )
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")

    check = command(
        "check",
        cmd_check,
        "Check that the release registry, Chroma and the keyword index agree (exit 1 if not).",
        "pressqa check --archive my-archive --repair",
    )
    check.add_argument("--repair", action="store_true", help="put right what can be (takes the write lock)")
    check.add_argument(
        "--force",
        action="store_true",
        help="with --repair, also drop what cannot be re-added: releases missing chunks, chunks of part of a release",
    )
    check.add_argument("--json", action="store_true", help="print the result as JSON")

    delete = command(
        "delete",
        cmd_delete,
        "Delete releases (all their chunks) from an archive.",
        "pressqa delete doj-release-00001 --archive my-archive",
    )
    delete.add_argument("doc_ids", nargs="+", metavar="DOC_ID")

    search = command(
        "search",
        cmd_search,
        "Show the passages that best match a question, with their sources.",
        'pressqa search "Which exercises did Russia join in China in 2021?"',
    )
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="number of releases to show (default 5)")
    _add_filters(search)
    search.add_argument("--json", action="store_true", help="print the hits as JSON")

    ask = command(
        "ask",
        cmd_ask,
        "Answer a question from the archive, citing the releases each sentence comes from.",
        'pressqa ask "Which exercises did Russia join in China in 2021?" --since 2021-01-01',
    )
    ask.add_argument("question")
    _add_answer_options(ask)
    ask.add_argument("--json", action="store_true", help="print the answer, citations and hits as JSON")

    chat = command(
        "chat",
        cmd_chat,
        "A conversation with the archive in the terminal; follow-ups such as 'and in 2022?' work.",
        "pressqa chat --archive my-archive",
    )
    _add_answer_options(chat)

    serve = command(
        "serve",
        cmd_serve,
        "Serve the chat in the browser (http://127.0.0.1:7860 unless --host/--port say otherwise).",
        "pressqa serve --archive my-archive --port 7860",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    serve.add_argument("--auth", metavar="USER:PASSWORD", help="require this login (do when --host is not 127.0.0.1)")
    serve.add_argument("--llm", metavar="SPEC", help="offer this language model beside the offline answerer")
    serve.add_argument(
        "--insecure", action="store_true", help="allow another --host without --auth (anyone there can use it)"
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name, e.g. the name a proxy serves the page under "
        "(loopback names and --host are always answered; repeatable)",
    )
    serve.add_argument(
        "--sync", action="store_true", help="sync each of the archive's sources when due, in the background"
    )

    sources = command(
        "sources",
        cmd_sources,
        "List, add or remove the feeds, sitemaps, press-room pages and folders an archive syncs from.",
        'pressqa sources add https://www.example.gov/news/rss.xml --every 1h --issuer "Ministry of Defence"',
    )
    actions = sources.add_subparsers(dest="action", metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="add a source: an RSS/Atom feed, a sitemap, a press-release listing page, a site's home page "
        "(its feed or sitemap is found) or a folder",
    )
    add.add_argument("location", metavar="URL_OR_FOLDER")
    add.add_argument("--name", help="what to call it (default: the host or the folder's name)")
    add.add_argument(
        "--every",
        default=every_label(DEFAULT_EVERY),
        metavar="DURATION",
        help="how often `serve --sync` and `sync --watch` sync it: 90s, 30m, 1h, 2d "
        f"(default {every_label(DEFAULT_EVERY)})",
    )
    add.add_argument("--issuer", help="the issuing body of its releases (default: read from each page or feed)")
    remove = actions.add_parser("remove", help="stop syncing a source (its releases stay in the archive)")
    remove.add_argument("name")
    listed = actions.add_parser("list", help="list the sources with their last sync (the default)")
    sources.add_argument("--json", action="store_true", help="print the sources as JSON")
    listed.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the sources as JSON")
    for action in (add, remove, listed):
        _add_archive_options(action, argparse.SUPPRESS)

    sync = command(
        "sync",
        cmd_sync,
        "Fetch what is new or changed at the archive's sources and ingest it (exit 3 if a page failed).",
        "pressqa sync --archive my-archive --source mod",
    )
    sync.add_argument("--source", metavar="NAME", help="sync only this source (default: all)")
    sync.add_argument(
        "--watch",
        action="store_true",
        help="then keep going: ingest files as they appear in folder sources, sync web sources when due",
    )
    sync.add_argument("--json", action="store_true", help="print each source's sync report as a line of JSON")

    evaluate = command(
        "eval",
        cmd_eval,
        "Score answers on a question set (eval/README.md); writes report.json, report.md and report.png.",
        "pressqa eval ../shared/eval/dev-questions.jsonl --corpus ../shared/eval/dev-archive.jsonl --out eval-out",
    )
    evaluate.add_argument(
        "target",
        nargs="+",
        metavar="QUESTIONS.jsonl",
        help="the question file, or: compare A/report.json B/report.json",
    )
    evaluate.add_argument("--corpus", type=Path, help="releases (JSONL, folder, zip) to ingest into a cached archive")
    evaluate.add_argument("--llm", metavar="SPEC", help="language model that writes the answers (default: offline)")
    evaluate.add_argument("--judge", metavar="SPEC", help="also ask this language model to judge the answers")
    evaluate.add_argument("--out", type=Path, default=Path("eval-report"), help="report folder (default eval-report)")
    evaluate.add_argument("-q", "--quiet", action="store_true", help="no progress bar while ingesting --corpus")
    return parser


def _add_archive_options(sub: argparse.ArgumentParser, default: Any) -> None:
    """``--archive`` and ``--chroma-url``; a sub-subcommand passes ``argparse.SUPPRESS`` so that
    its unset options leave what its parent command read."""
    sub.add_argument(
        "--archive",
        type=Path,
        default=default,
        help="archive directory (default: $PRESSQA_ARCHIVE or ./pressqa-archive)",
    )
    sub.add_argument(
        "--chroma-url",
        default=default,
        metavar="URL",
        help="keep the chunks on this Chroma server, e.g. http://127.0.0.1:8000 (default: $PRESSQA_CHROMA_URL, "
        "else in the archive folder)",
    )


def _add_filters(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--since", type=first_day, metavar="DATE", help=f"only releases published on or after ({DATE_FORMS})"
    )
    sub.add_argument(
        "--until", type=last_day, metavar="DATE", help=f"only releases published on or before ({DATE_FORMS})"
    )
    sub.add_argument(
        "--source",
        action="append",
        metavar="ISSUER",
        help="only releases of this issuer, as `pressqa stats` names it (repeatable)",
    )
    sub.add_argument(
        "--as-of",
        type=last_day,
        metavar="DATE",
        help="ask as on this day (a month or year: its last day): later releases are left out, and 'last month' "
        "or 'recently' are read against it",
    )


def _add_answer_options(sub: argparse.ArgumentParser) -> None:
    _add_filters(sub)
    sub.add_argument(
        "-k", type=int, default=None, help="releases to answer from (default $PRESSQA_ANSWER_SOURCES or 5)"
    )
    sub.add_argument(
        "--limit",
        type=int,
        default=TIMELINE_ITEMS,
        metavar="N",
        help=f"releases a timeline or count shows (default {TIMELINE_ITEMS}; 0 shows all)",
    )
    sub.add_argument(
        "--llm",
        metavar="SPEC",
        help="language model to write the answer: ollama:MODEL, openai-like:MODEL@BASE_URL, "
        "llamacpp:/path/model.gguf, or offline (default $PRESSQA_LLM, else offline)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args))
    except PressQAError as err:
        print(f"pressqa: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("pressqa: interrupted; rerun the same command to finish", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`pressqa ask ... | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that the flush at exit fails no more
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
