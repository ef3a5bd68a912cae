"""The cache of outputs: a hit gives the same bytes without rendering, any
input that decides the bytes changes the key, a damaged entry is dropped,
the folder keeps to its bound, and writers may share it."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import notegen
from notegen import version
from notegen.cli import cli
from notegen.options import RenderOptions, settle
from notegen.render import cache as output_cache
from notegen.render.cache import OutputCache, output_key
from notegen.template_folders import BUILTIN_FOLDER

from .conftest import SEED, Edit

NOTE = str(SEED / "note.yaml")


@pytest.fixture
def cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The cache on, in a folder of the test's own; its outputs folder."""
    monkeypatch.setenv("NOTEGEN_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "notegen" / "outputs"


def test_a_hit_gives_the_same_bytes_without_rendering(
        cached: Path, runner: CliRunner, tmp_path: Path, worked_pdf: bytes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    result = runner.invoke(cli, ["render", NOTE, "-o", str(first)])
    assert result.exit_code == 0, result.output
    assert len(list(cached.glob("*/*"))) == 1

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("rendered again")

    monkeypatch.setattr("notegen.cli.rendering.render_pdf", refuse)
    result = runner.invoke(cli, ["render", NOTE, "-o", str(second)])
    assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes() == worked_pdf
    # --no-cache renders (here: refuses), as does cache = false.
    assert runner.invoke(cli, ["render", "--no-cache", NOTE, "-o", str(second)]).exit_code != 0
    monkeypatch.setenv("NOTEGEN_CACHE", "false")
    assert runner.invoke(cli, ["render", NOTE, "-o", str(second)]).exit_code != 0


def test_the_cache_folder_is_the_users_own(cached: Path, runner: CliRunner,
                                           tmp_path: Path) -> None:
    assert runner.invoke(cli, ["render", NOTE, "--format", "html",
                               "-o", str(tmp_path / "n.html")]).exit_code == 0
    for folder in (cached.parent, cached, *cached.iterdir()):
        assert folder.stat().st_mode & 0o077 == 0, folder


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A ministry's folder with one file of each kind the key must see."""
    folder = tmp_path / "ministry"
    (folder / "catalogues").mkdir(parents=True)
    (folder / "static" / "fonts").mkdir(parents=True)
    (folder / "catalogues" / "en.yaml").write_text("phrases:\n  closing: Kind regards\n",
                                                   encoding="utf-8")
    shutil.copy(next((BUILTIN_FOLDER / "static" / "fonts").glob("*.ttf")),
                folder / "static" / "fonts" / "body.ttf")
    (folder / "static" / "note.css").write_text("body { color: black }\n", encoding="utf-8")
    (folder / "note_verbale.html.j2").write_text("{% extends 'builtin/note_verbale.html.j2' %}",
                                                 encoding="utf-8")
    return folder


@pytest.mark.parametrize(("name", "change"), [
    ("catalogues/en.yaml", b"phrases:\n  closing: With regards\n"),
    ("static/fonts/body.ttf", None),  # one byte of the font flipped
    ("static/note.css", b"body { color: #111 }\n"),
    ("note_verbale.html.j2", b"{% extends 'builtin/note_verbale.html.j2' %}\n"),
    ("static/new-image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
])
def test_changing_any_file_of_the_folders_misses(
        worked_case: notegen.Case, user_folder: Path, name: str, change: bytes | None) -> None:
    options = settle(worked_case, RenderOptions(template_dirs=(user_folder,)))
    before = output_key(worked_case, options, "pdf")
    assert output_key(worked_case, options, "pdf") == before  # the same inputs, the same key
    path = user_folder / name
    if change is None:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        change = bytes(data)
    size = path.stat().st_size if path.exists() else None
    path.write_bytes(change)
    if size == len(change):  # the same size: make the time the same too
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    assert output_key(worked_case, options, "pdf") != before


def test_the_records_options_format_and_environment_are_in_the_key(
        worked_case: notegen.Case, monkeypatch: pytest.MonkeyPatch) -> None:
    options = settle(worked_case)
    key = output_key(worked_case, options, "pdf")
    assert output_key(worked_case, options, "html") != key
    assert output_key(worked_case, settle(worked_case, RenderOptions(lang="fr")), "pdf") != key
    assert output_key(worked_case, settle(worked_case, RenderOptions(pdf_variant=None)),
                      "pdf") != key
    other = dataclasses.replace(worked_case, note=worked_case.note.model_copy(
        update={"reference": "99/999/2025"}))
    assert output_key(other, settle(other), "pdf") != key
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert output_key(worked_case, options, "pdf") != key


def test_an_unchanged_file_is_not_read_again(user_folder: Path) -> None:
    path = user_folder / "static" / "note.css"
    first = output_cache.file_digest(path)
    info = path.stat()
    # Were the file read, the digest would change with its content.
    with open(path, "r+b") as stream:
        stream.write(b"X")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    if path.stat().st_ctime_ns == info.st_ctime_ns:
        assert output_cache.file_digest(path) == first
    output_cache.forget_digests()
    assert output_cache.file_digest(path) != first


@pytest.mark.logs
def test_a_damaged_entry_is_dropped_and_rendered_again(
        cached: Path, runner: CliRunner, tmp_path: Path, worked_pdf: bytes) -> None:
    target = tmp_path / "note.pdf"
    assert runner.invoke(cli, ["render", NOTE, "-o", str(target)]).exit_code == 0
    (entry,) = cached.glob("*/*")
    data = bytearray(entry.read_bytes())
    data[-100] ^= 0x01
    entry.write_bytes(bytes(data))
    target.unlink()
    result = runner.invoke(cli, ["render", NOTE, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == worked_pdf
    assert f"WARNING: the cache entry {entry} was damaged" in result.stderr
    assert entry.read_bytes() != bytes(data)  # kept anew, whole


@pytest.mark.logs
@pytest.mark.parametrize("damage", [b"", b"notegen-cache 1\n{}\n", b"garbage\n" * 10])
def test_any_damage_is_a_miss(tmp_path: Path, damage: bytes) -> None:
    cache = OutputCache(tmp_path)
    key = "a" * 64
    cache.put(key, b"%PDF-1.7 a note", ["a warning"])
    got = cache.get(key)
    assert got is not None
    assert got.data == b"%PDF-1.7 a note"
    assert got.warnings == ("a warning",)
    (tmp_path / "outputs" / "aa" / key).write_bytes(damage)
    assert cache.get(key) is None
    assert not (tmp_path / "outputs" / "aa" / key).exists()


def test_the_folder_keeps_to_its_bound_least_recently_used_first(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path)
    keys = [f"{n:064x}" for n in range(5)]
    for number, key in enumerate(keys):
        cache.put(key, bytes(1000))
        path = cache._path(key)
        os.utime(path, (1_000_000 + number, 1_000_000 + number))
    entry_size = cache._path(keys[0]).stat().st_size
    assert cache.size() == 5 * entry_size
    assert cache.get(keys[0]) is not None  # used now: the most recent
    cache.max_bytes = 3 * entry_size
    cache.trim()
    kept = {key for key in keys if cache._path(key).exists()}
    assert kept == {keys[0], keys[3], keys[4]}
    assert cache.size() <= cache.max_bytes
    cache.max_bytes = 100  # smaller than any entry: nothing is kept
    cache.put("f" * 64, bytes(1000))
    assert not cache._path("f" * 64).exists()


def _write(folder: str, worker: int) -> None:
    cache = OutputCache(Path(folder))
    for round_ in range(30):
        cache.put("c" * 64, b"shared" * 5000)  # every writer, the same entry
        cache.put(f"{worker:02x}{round_:062x}", bytes([worker]) * 3000)
        entry = cache.get("c" * 64)
        assert entry is None or entry.data == b"shared" * 5000


@pytest.mark.slow
def test_writers_in_several_processes_share_the_folder(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write, args=(str(tmp_path), n)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    cache = OutputCache(tmp_path)
    shared = cache.get("c" * 64)
    assert shared is not None
    assert shared.data == b"shared" * 5000
    for number in range(4):
        entry = cache.get(f"{number:02x}{0:062x}")
        assert entry is not None
        assert entry.data == bytes([number]) * 3000
    assert not list((tmp_path / "outputs").glob("*/.tmp-*"))


def test_a_hit_shows_the_warnings_its_render_showed(
        cached: Path, runner: CliRunner, tmp_path: Path, edit_seed: Edit) -> None:
    note = str(edit_seed("note.yaml", "  demands:\n    - kind: investigation",
                         "  legal_bases:\n    - {article: vccr.31.3}\n    - {article: vcdr.1.i}\n"
                         "    - {article: vcdr.22.1, framing: general_principle}\n"
                         "  demands:\n    - kind: investigation"))
    target = str(tmp_path / "note.html")
    first = runner.invoke(cli, ["render", note, "--format", "html", "-o", target])
    assert first.exit_code == 0, first.output
    assert "vccr.59 applies to honorary_consulate" in first.stderr
    assert len(list(cached.glob("*/*"))) == 1
    second = runner.invoke(cli, ["render", note, "--format", "html", "-o", target])
    assert second.exit_code == 0, second.output
    assert second.stderr == first.stderr
    # --strict is another key: the warning stops it, as without the cache.
    strict = runner.invoke(cli, ["render", "--strict", note, "--format", "html", "-o", target])
    assert strict.exit_code == 1


def test_a_process_whose_code_changed_under_it_keeps_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stamp is the code this process runs, taken when it started; once
    notegen's files change under a long-running process (the daemon, a
    worker), what it renders may come from part-old code: it is not kept
    under either stamp."""
    stamp = version.code_stamp()
    cache = OutputCache(tmp_path)
    cache.put("a" * 64, b"before")
    assert cache.get("a" * 64) is not None
    source = tmp_path / "changed.py"
    source.write_text("# a file of the checkout, changed after start\n")
    real = version.package_files
    monkeypatch.setattr(version, "package_files", lambda: iter([*real(), str(source)]))
    assert version.code_changed()
    assert version.code_stamp() == stamp  # still the code it runs
    cache.put("b" * 64, b"after")
    assert cache.get("b" * 64) is None
