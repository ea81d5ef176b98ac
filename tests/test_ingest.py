"""Ingestion end to end: real files, the real packaged embedder, a real Chroma on disk."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import chromadb.api.client
import pytest

from conftest import SAMPLE_ARCHIVE, store_of, stored_chunks
from pressqa import (
    Archive,
    ArchiveLockedError,
    Release,
    ReleaseNotFoundError,
    SearchFilters,
    Settings,
    SettingsMismatchError,
    StoreError,
)
from pressqa.fsutil import WriteLock
from pressqa.ingest.readers import InputReader

BRIEFING = """Ministry of Defence of Freedonia

03/14/2022 | Press release | Distributed by Public on 03/14/2022 08:00

Minister opens the northern logistics depot

NORTHTOWN, March 14 -- Defence Minister Anna Berg opened the new northern logistics depot on Monday, which
will store fuel, spare parts and rations for the three northern brigades.

The depot cost 42 million euros and took two years to build. It employs 180 civilian staff, most of them hired
from the surrounding district.

Berg said the depot shortens supply lines to the border garrisons from three days to one day and will be
expanded in 2024."""


def write_records(path: Path, records: list[dict[str, str | None]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def record(doc_id: str, text: str, date: str | None = "2020-01-01", title: str | None = None) -> dict[str, str | None]:
    return {
        "id": doc_id,
        "title": title or f"Release {doc_id}",
        "date": date,
        "source": "Test Ministry",
        "url": f"https://example.org/{doc_id}",
        "text": text,
    }


def chroma_ids(archive: Archive) -> set[str]:
    return {chunk.chunk_id for chunk in stored_chunks(archive)}


# ------------------------------------------------------------------ the bundled sample archive


def test_sample_archive_ingests_completely(sample_archive: Archive) -> None:
    stats = sample_archive.stats()
    assert 25 <= stats.releases <= 40
    assert len(stats.issuers) >= 4
    assert stats.first_date and stats.last_date and stats.last_date.year - stats.first_date.year >= 2
    assert stats.undated == 0
    assert stats.chunks == len(chroma_ids(sample_archive))
    assert "Ministry of National Defense of the People's Republic of China" in stats.issuers


def test_chunks_quote_exact_spans_and_fit_the_model_window(sample_archive: Archive) -> None:
    releases = {r.doc_id: r for r in InputReader(Settings()).read([SAMPLE_ARCHIVE]) if isinstance(r, Release)}
    stored = stored_chunks(sample_archive)
    assert len(stored) > len(releases)  # longer releases are split
    for chunk in stored:
        release = releases[chunk.doc_id]
        assert release.text[chunk.start : chunk.end] == chunk.text, chunk.chunk_id
        tokens = sample_archive.chunker.tokens(sample_archive.chunker.embedding_text(release, chunk.text))
        assert len(tokens) + 2 <= 256, (chunk.chunk_id, len(tokens))  # +[CLS] and [SEP]
        assert chunk.metadata["date_int"] == int(release.date.strftime("%Y%m%d"))  # type: ignore[union-attr]


def test_wire_copy_is_linked_and_restatement_kept_apart(sample_archive: Archive) -> None:
    ids = {
        r.origin.rsplit("/", 1)[-1]: r.doc_id
        for r in InputReader(Settings()).read([SAMPLE_ARCHIVE])
        if isinstance(r, Release)
    }
    original = ids["2021-08-13-zapad-interaction-2021-concludes.txt"]
    wire = ids["2021-08-13-zapad-interaction-2021-concludes-newswire-asia.txt"]
    # Same day, but the issuer's own distribution came first: it is the original.
    assert sample_archive.copies(original) == [wire]
    assert sample_archive.original_of(wire) == original
    assert sample_archive.stats().duplicates == 1
    # The 2023 release restates the 2022 guidance but adds a paragraph of new facts:
    # collapsing it would hide them, so it stays a release of its own.
    restated = ids["2023-02-01-cold-emergency-restates-winter-guidance.md"]
    assert sample_archive.original_of(restated) is None


def test_keyword_index_is_in_step_with_chroma(sample_archive: Archive) -> None:
    assert sample_archive.check().ok  # it holds the registered chunks, at the registry's generation
    with store_of(sample_archive) as store:
        [best] = store.chunks(store.lexical("destroyer Nanchang", 1, SearchFilters()))
    assert "joint sea" in sample_archive.release(best.doc_id).title.lower()


def test_search_finds_the_exercise_russia_joined_in_china(sample_archive: Archive) -> None:
    hits = sample_archive.search("Which exercises did Russia join in China in 2021?", k=3)
    assert hits and all("ZAPAD/INTERACTION-2021" in hit.title or "ZAPAD/INTERACTION-2021" in hit.text for hit in hits)
    assert len({hit.doc_id for hit in hits}) == len(hits)
    top = hits[0]
    assert top.date and top.date.year == 2021 and top.source
    wire_pair = {
        "2021-08-13-zapad-interaction-2021-concludes.txt",
        "2021-08-13-zapad-interaction-2021-concludes-newswire-asia.txt",
    }
    shown = [hit for hit in hits if Path(sample_archive.release(hit.doc_id).origin).name in wire_pair]
    assert len(shown) == 1 and len(shown[0].copies) == 1  # the copies collapse into one hit, listing the other
    assert sample_archive.original_of(shown[0].doc_id) is None  # and it is the canonical one


# ------------------------------------------------------------------ incremental behaviour


def test_reingest_writes_nothing(tmp_path: Path, archive: Archive) -> None:
    source = tmp_path / "in"
    shutil.copytree(SAMPLE_ARCHIVE / "nato", source)
    first = archive.ingest([source])
    stored, stats = stored_chunks(archive), dataclasses.replace(archive.stats(), bytes_on_disk=0)
    second = archive.ingest([source])
    assert len(first.added) == 3 and first.chunks_added > 0
    assert (second.added, second.updated, second.unchanged, second.chunks_added) == ((), (), 3, 0)
    assert stored_chunks(archive) == stored and dataclasses.replace(archive.stats(), bytes_on_disk=0) == stats


def test_changed_release_replaces_its_chunks(tmp_path: Path, archive: Archive) -> None:
    path = tmp_path / "depot.txt"
    path.write_text(BRIEFING)
    archive.ingest([path])
    path.write_text(BRIEFING.replace("42 million euros", "45 million euros").rsplit("\n\n", 1)[0] + "\n")
    report = archive.ingest([path])
    assert report.updated and not report.added
    documents = [chunk.text for chunk in stored_chunks(archive)]
    assert any("45 million euros" in d for d in documents) and not any("42 million" in d for d in documents)
    assert not any("expanded in 2024" in d for d in documents)
    assert archive.stats().releases == 1
    assert len(chroma_ids(archive)) == archive.stats().chunks
    assert archive.check().ok
    # Passages are read by id from the registry's version and chunk count: exactly what is stored.
    with store_of(archive) as store:
        current = store.release_chunks([*report.updated, "no-such-release"])
        assert {chunk.chunk_id for chunk in current} == chroma_ids(archive)
        assert store.release_chunks(["no-such-release"]) == []


def test_a_release_with_more_chunks_than_one_get_takes_is_read_whole(
    tmp_path: Path, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    paragraphs = [
        f"Paragraph {n} reports that depot {n} received {n * 7} trucks of grain this week." for n in range(60)
    ]
    archive.ingest([write_records(tmp_path / "long.jsonl", [record("long", "\n\n".join(paragraphs))])])
    stored = chroma_ids(archive)
    assert len(stored) >= 3
    # Chroma's batch limit (5,461 ids) made small, instead of writing a release of 6,000 chunks.
    monkeypatch.setattr(chromadb.api.client.Client, "get_max_batch_size", lambda self: 2)
    with store_of(archive) as store:
        assert {chunk.chunk_id for chunk in store.release_chunks(["long"])} == stored
    assert archive.release_texts(["long"])["long"] == "\n\n".join(paragraphs)


def test_delete_removes_a_release_everywhere(tmp_path: Path, archive: Archive) -> None:
    path = write_records(
        tmp_path / "r.jsonl",
        [
            record("keep", "The harbour reopened to shipping on Monday."),
            record("drop", "The minister resigned after the audit report."),
        ],
    )
    archive.ingest([path])
    removed = archive.delete("drop")
    assert removed == 1
    assert {chunk.doc_id for chunk in stored_chunks(archive)} == {"keep"}
    assert archive.check().ok
    assert archive.stats().releases == 1
    with pytest.raises(ReleaseNotFoundError, match="drop"):
        archive.delete("drop")


def test_near_duplicates_link_to_the_earliest_release(tmp_path: Path, archive: Archive) -> None:
    text = BRIEFING.split("\n\n", 3)[3]
    light_edit = text.replace("on Monday", "on Monday morning")
    archive.ingest(
        [
            write_records(
                tmp_path / "a.jsonl",
                [
                    record("later-copy", light_edit, "2022-03-16"),
                    record(
                        "unrelated",
                        "A different story about fishing quotas agreed by the council for the coming season.",
                    ),
                ],
            )
        ]
    )
    report = archive.ingest([write_records(tmp_path / "b.jsonl", [record("original", text, "2022-03-14")])])
    # The older release arrived second, and takes over as the canonical one.
    assert [(d.doc_id, d.canonical_id, d.kind) for d in report.duplicates] == [("later-copy", "original", "near")]
    assert report.duplicates[0].similarity >= 0.8
    assert archive.copies("original") == ["later-copy"]
    assert archive.original_of("unrelated") is None
    archive.delete("original")
    assert archive.original_of("later-copy") is None


def test_exact_copy_is_reported(tmp_path: Path, archive: Archive) -> None:
    text = "The council approved the budget of 12 million for the new bridge on Tuesday evening."
    report = archive.ingest(
        [
            write_records(
                tmp_path / "c.jsonl", [record("first", text, "2021-05-01"), record("second", text, "2021-05-02")]
            )
        ]
    )
    assert [(d.doc_id, d.canonical_id, d.kind, d.similarity) for d in report.duplicates] == [
        ("second", "first", "exact", 1.0)
    ]
    # Updating one member of the group must not hide the text the others still share.
    archive.ingest([write_records(tmp_path / "d.jsonl", [record("first", text, "2021-05-01", title="Retitled")])])
    third = archive.ingest([write_records(tmp_path / "e.jsonl", [record("third", text, "2021-05-03")])])
    assert [(d.doc_id, d.canonical_id, d.kind) for d in third.duplicates] == [("third", "first", "exact")]


def test_bad_files_do_not_stop_good_ones(tmp_path: Path, archive: Archive) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "depot.txt").write_text(BRIEFING)
    (tmp_path / "in" / "broken.pdf").write_bytes(b"%PDF-1.7 garbage")
    (tmp_path / "in" / "empty.md").write_text("")
    report = archive.ingest([tmp_path / "in"])
    assert len(report.added) == 1
    assert sorted(Path(p.path).name for p in report.failed) == ["broken.pdf", "empty.md"]
    assert archive.stats().releases == 1


def test_undated_releases_are_counted_never_given_today(tmp_path: Path, archive: Archive) -> None:
    report = archive.ingest(
        [write_records(tmp_path / "u.jsonl", [record("undated", "No date is known for it.", None)])]
    )
    assert report.undated == ("undated",)
    assert archive.release("undated").date is None
    assert archive.stats().undated == 1
    assert dt.date.today().isoformat() not in json.dumps([dict(chunk.metadata) for chunk in stored_chunks(archive)])


def test_duplicate_ids_in_one_run_are_reported(tmp_path: Path, archive: Archive) -> None:
    report = archive.ingest(
        [
            write_records(
                tmp_path / "d.jsonl",
                [record("same", "First text of the day."), record("same", "Second text, same id.")],
            )
        ]
    )
    assert report.added == ("same",)
    assert len(report.failed) == 1 and "already read" in report.failed[0].reason


# ------------------------------------------------------------------ archive guards


def test_other_settings_are_refused_naming_both(settings: Settings, tmp_path: Path) -> None:
    with Archive.open(settings=settings) as archive:
        archive.ingest([write_records(tmp_path / "r.jsonl", [record("one", "Some text here.")])])
    other = settings.model_copy(update={"chunk_size": 128})
    with pytest.raises(SettingsMismatchError, match=r"chunk_size: archive has 192, settings ask for 128"):
        Archive.open(settings=other)


def test_missing_archive_is_not_created_for_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no pressqa archive"):
        Archive.open(tmp_path / "nowhere", create=False)
    assert not (tmp_path / "nowhere").exists()


def test_second_writer_is_refused_clearly(archive: Archive, tmp_path: Path) -> None:
    releases = write_records(tmp_path / "r.jsonl", [record("one", "Some text here.")])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from pressqa.fsutil import WriteLock\n"
         "with WriteLock(Path(sys.argv[1])):\n    print('locked', flush=True); sys.stdin.read()", str(archive.path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(ArchiveLockedError, match=f"another process \\(pid {holder.pid}\\)"):
            archive.ingest([releases])
    finally:
        holder.communicate("")
    # A writer of this very process (a sync beside the page's upload) is named as such.
    with WriteLock(archive.path), pytest.raises(ArchiveLockedError, match="this process"):
        archive.ingest([releases])
    assert archive.stats().releases == 0


def test_progress_is_reported_and_the_library_prints_nothing(
    tmp_path: Path, settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    source = write_records(
        tmp_path / "p.jsonl", [record(f"r{n}", f"Release number {n} about topic {n}.") for n in range(5)]
    )
    events = []
    with Archive.open(settings=settings.model_copy(update={"ingest_batch_chunks": 2})) as archive:
        archive.ingest([source], progress=events.append)
    assert len(events) >= 3  # one per written batch, and a last one
    assert [e.chunks_written for e in events] == sorted(e.chunks_written for e in events)
    assert (events[-1].releases_seen, events[-1].releases_total, events[-1].chunks_written) == (5, 5, 5)
    assert capfd.readouterr() == ("", "")


def test_updating_a_canonical_release_keeps_its_group_sound(tmp_path: Path, archive: Archive) -> None:
    text = BRIEFING.split("\n\n", 3)[3]
    first = write_records(
        tmp_path / "a.jsonl", [record("orig", text, "2022-03-14"), record("copy", text, "2022-03-15")]
    )
    archive.ingest([first])
    assert archive.copies("orig") == ["copy"]
    # A typo fix in the original's title: it is still the group's canonical release, not its own copy.
    fixed = write_records(tmp_path / "b.jsonl", [record("orig", text, "2022-03-14", title="Fixed title")])
    report = archive.ingest([fixed])
    assert report.updated == ("orig",)
    assert archive.copies("orig") == ["copy"]
    assert archive.original_of("orig") is None
    # Rewritten beyond recognition, it leaves the group and the copy stands alone.
    rewritten = write_records(
        tmp_path / "c.jsonl", [record("orig", "An unrelated statement on river ferries.", "2022-03-14")]
    )
    archive.ingest([rewritten])
    assert archive.copies("orig") == [] and archive.original_of("copy") is None
    archive.delete("orig")
    assert archive.stats().duplicates == 0


def test_long_titles_are_cut_to_fit_the_model_window(tmp_path: Path, archive: Archive) -> None:
    title = "中俄两军举行联合演习" * 40  # every character is a token: far more than the window
    body = "\n\n".join(f"Paragraph {n} of a long statement about joint exercises and patrols. " * 6 for n in range(8))
    archive.ingest([write_records(tmp_path / "cjk.jsonl", [record("cjk", body, title=title)])])
    release = archive.release("cjk")
    for document in [chunk.text for chunk in stored_chunks(archive)]:
        text = archive.chunker.embedding_text(release, document)
        assert len(archive.chunker.tokens(text)) + 2 <= 256
        assert text.startswith("中俄两军") and "Test Ministry | 2020-01-01" in text


def test_other_embedding_model_is_refused(settings: Settings, tmp_path: Path) -> None:
    with Archive.open(settings=settings) as archive:
        archive.ingest([write_records(tmp_path / "r.jsonl", [record("one", "Some text here.")])])
    other = settings.model_copy(update={"embedding_model": "BAAI/bge-small-en-v1.5"})
    with pytest.raises(
        SettingsMismatchError, match="embedding_model: archive has 'sentence-transformers/all-MiniLM-L6-v2'"
    ):
        Archive.open(settings=other)


def test_another_model_in_the_same_place_is_refused(settings: Settings, tmp_path: Path) -> None:
    with Archive.open(settings=settings) as archive:
        archive.ingest([write_records(tmp_path / "r.jsonl", [record("one", "Some text here.")])])
    impostor = tmp_path / "model"
    shutil.copytree(settings.model_path(), impostor)
    config = json.loads((impostor / "config.json").read_text())
    (impostor / "config.json").write_text(json.dumps({**config, "layer_norm_eps": 1e-6}))
    with pytest.raises(SettingsMismatchError, match="embedding_fingerprint"):
        Archive.open(settings=settings.model_copy(update={"embedding_path": impostor}))


@pytest.mark.slow
def test_a_plain_script_ingests_once_without_a_main_guard(tmp_path: Path) -> None:
    # Parser workers must not run the caller's script again (spawn and forkserver workers do),
    # whether it is a file without `if __name__ == "__main__"` or typed into stdin.
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "depot.txt").write_text(BRIEFING)
    script = (
        "import sys\n"
        "from pressqa import Archive\n"
        "archive = Archive.open(sys.argv[-1])\n"
        f"report = archive.ingest([{str(tmp_path / 'releases')!r}])\n"
        "print('ingested', len(report.added), len(report.failed))\n"
    )
    (tmp_path / "script.py").write_text(script)
    for name, command, stdin in [("file", [str(tmp_path / "script.py")], None), ("stdin", ["-"], script)]:
        done = subprocess.run(
            [sys.executable, *command, str(tmp_path / name)], input=stdin, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.splitlines() == ["ingested 1 0"], name


def test_a_moved_folder_keeps_its_releases_and_their_ids(tmp_path: Path) -> None:
    before, after = tmp_path / "disk-a" / "doj", tmp_path / "disk-b" / "press" / "doj"
    shutil.copytree(SAMPLE_ARCHIVE / "doj", before)
    export = tmp_path / "disk-a" / "records.jsonl"
    export.write_text(json.dumps({"title": "Depot opens", "text": BRIEFING}) + "\n")  # no id: pressqa makes one
    with Archive.open(tmp_path / "archive") as archive:
        ids = set(archive.ingest([before, export]).added)
        after.parent.mkdir(parents=True)
        shutil.move(before, after)  # the folder moved, or its disk is mounted elsewhere
        shutil.move(export, after.parent / "records.jsonl")
        report = archive.ingest([after, after.parent / "records.jsonl"])
        assert (report.added, report.unchanged, set(report.moved)) == ((), 8, ids)
        assert archive.stats().releases == 8 and archive.stats().duplicates == 0

        # From its new place, an edited file updates its release, under the id it always had.
        boeing = after / "2021-01-07-boeing-deferred-prosecution.txt"
        boeing.write_text(boeing.read_text() + "\n\nThe agreement was filed on January 7, 2021.")
        (doc_id,) = archive.group(str(boeing))
        report = archive.ingest([after])
        assert (report.added, report.updated, report.moved) == ((), (doc_id,), ())
        assert doc_id in ids and archive.stats().releases == 8

    # A copy is not a move: its releases are new, and linked to the originals as exact copies.
    copy = tmp_path / "disk-c" / "doj"
    shutil.copytree(after, copy)
    with Archive.open(tmp_path / "archive") as archive:
        report = archive.ingest([copy])
        assert len(report.added) == 7 and not report.moved
        assert {link.kind for link in report.duplicates} == {"exact"}


def test_a_copy_of_a_gone_file_under_another_name_is_not_a_move(tmp_path: Path) -> None:
    original = tmp_path / "upload" / "depot.txt"
    original.parent.mkdir()
    original.write_text(BRIEFING)
    with Archive.open(tmp_path / "archive") as archive:
        (first,) = archive.ingest([original]).added
        original.unlink()  # as Gradio deletes an upload after a day
        wire = tmp_path / "wire" / "newswire-depot.txt"  # the same body, distributed under another name
        wire.parent.mkdir()
        wire.write_text(BRIEFING)
        report = archive.ingest([wire])
        assert report.moved == () and len(report.added) == 1 and report.added[0] != first
        assert archive.stats().releases == 2 and archive.release(first).origin == str(original)
