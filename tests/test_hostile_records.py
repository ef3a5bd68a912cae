"""The bad-input corpus (issue 14): hostile and broken record cases, each
written here, each run through ``notegen validate``, :func:`load_case` and
(where it is one file) :func:`load_case_data`, the service's way in.

For every case: exit code 1, a located error on stderr (``file:line:column:``
or ``file:`` and a field path), no traceback, a bounded message, under 30 s.
The largest run once more in a child process limited to 1 GiB of address
space. ``test_corpus_figures`` (last) prints how many cases ran, how many
were located by line and column, and the slowest; run the file with ``-s``
to read them.
"""

from __future__ import annotations

import copy
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from notegen import RecordError, load_case
from notegen.cli import cli
from notegen.records.case import load_case_data

from .conftest import FIXTURES

BASE: dict[str, Any] = json.loads((FIXTURES / "minimal.json").read_text(encoding="utf-8"))
#: Where the one incident of the base case is.
INCIDENT = ("incidents", 0)
#: The most a refusal may print: a hostile input must not flood the terminal.
MAX_STDERR = 60_000
#: A located problem as the command line prints it: the file, then line and
#: column or a field path.
LOCATED = re.compile(r"^  (?P<file>/[^:\n]*?)(?::(?P<line>\d+):(?P<column>\d+))?: (?P<rest>.+)$",
                     re.MULTILINE)


@dataclass(frozen=True)
class Hostile:
    """One hostile case: ``make`` writes it into a folder of its own and
    returns the file to validate."""

    make: Callable[[Path], Path]
    #: The case is one regular file whose bytes a service could receive.
    single: bool = True
    #: Also run in a child process with its address space capped.
    big: bool = False


CASES: dict[str, Hostile] = {}


def case(name: str, *, single: bool = True, big: bool = False
         ) -> Callable[[Callable[[Path], Path]], Callable[[Path], Path]]:
    def register(make: Callable[[Path], Path]) -> Callable[[Path], Path]:
        assert name not in CASES, name
        CASES[name] = Hostile(make, single, big)
        return make
    return register


def written(name: str, content: str | bytes, suffix: str = ".yaml", *,
            big: bool = False) -> None:
    """A case that is ``content``, as it stands."""
    def make(folder: Path) -> Path:
        path = folder / f"case{suffix}"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path
    case(name, big=big)(make)


def changed(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """The base case with ``value`` at ``path``."""
    data = copy.deepcopy(BASE)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


def as_yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def in_both(name: str, path: tuple[str | int, ...], value: Any, *, big: bool = False) -> None:
    """A case with ``value`` at ``path``, once as JSON and once as YAML."""
    data = changed(path, value)
    written(f"{name}.json", as_json(data), ".json", big=big)
    written(f"{name}.yaml", as_yaml(data), big=big)


def yaml_case(name: str, extra: str, *, big: bool = False) -> None:
    """The base case in YAML with ``extra`` YAML text after it."""
    written(name, as_yaml(BASE) + extra, big=big)


def with_includes(name: str, prepare: Callable[[Path], list[str]], *,
                  big: bool = False) -> None:
    """The base case in YAML including what ``prepare`` sets up in its folder."""
    def make(folder: Path) -> Path:
        names = prepare(folder)
        path = folder / "case.yaml"
        path.write_text(as_yaml({"include": names, **BASE}), encoding="utf-8")
        return path
    case(name, single=False, big=big)(make)


def special(name: str, make: Callable[[Path], Path]) -> None:
    """A case that is not a regular file: no service receives its bytes."""
    case(name, single=False)(make)


# -- Files that are not files: devices, pipes, folders, sockets, loops. --

SOCKETS: list[socket.socket] = []


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def make_socket(path: Path) -> Path:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    SOCKETS.append(server)
    return path


def make_sparse(path: Path, size: int = 1 << 30) -> Path:
    with path.open("wb") as out:
        out.truncate(size)
    return path


for device in ["/dev/zero", "/dev/urandom", "/dev/null", "/dev/full"]:
    with_includes(f"include {device}", lambda folder, device=device: [device])
    special(f"case is {device}", lambda folder, device=device: Path(device))
with_includes("include a named pipe", lambda f: [make_fifo(f / "pipe.yaml").name])
with_includes("include a folder", lambda f: [(f / "sub").mkdir() or "sub"])
with_includes("include the parent folder", lambda f: [".."])
with_includes("include a socket", lambda f: [str(make_socket(f / "s.yaml"))])
with_includes("include a symlink loop",
              lambda f: [(f / "loop.yaml").symlink_to("loop.yaml") or "loop.yaml"])
with_includes("include a two-step symlink loop", lambda f: [
    (f / "a.yaml").symlink_to("b.yaml") or (f / "b.yaml").symlink_to("a.yaml") or "a.yaml"])
with_includes("include a symlink to /dev/zero",
              lambda f: [(f / "z.yaml").symlink_to("/dev/zero") or "z.yaml"])
with_includes("include a symlink to a pipe", lambda f: [
    (f / "p.yaml").symlink_to(make_fifo(f / "pipe")) or "p.yaml"])
with_includes("include a 1 GiB sparse file", lambda f: [make_sparse(f / "huge.yaml").name])
with_includes("include a missing file", lambda f: ["nowhere.yaml"])
with_includes("include through a file", lambda f: [
    (f / "plain.yaml").write_text("states: []\n") and "plain.yaml/x.yaml"])
with_includes("include a name too long", lambda f: ["a" * 5000 + ".yaml"])
with_includes("include an empty name", lambda f: [""])
with_includes("include the folder itself", lambda f: ["."])
with_includes("include the root folder", lambda f: ["/"])
with_includes("include a name with a NUL", lambda f: ["a\x00b.yaml"])
with_includes("include a name with a line break", lambda f: ["a\nb.yaml"])
with_includes("include a name with an ANSI escape", lambda f: ["\x1b[2Ja.yaml"])
special("case is a named pipe", lambda f: make_fifo(f / "case.yaml"))
special("case is a socket", lambda f: make_socket(f / "case.yaml"))
special("case is a 1 GiB sparse file", lambda f: make_sparse(f / "case.yaml"))


def too_much_in_all(folder: Path) -> list[str]:
    names = []
    for number in range(5):
        names.append(f"part{number}.yaml")
        (folder / names[-1]).write_text("states: []\n" + ("#" + "x" * 999 + "\n") * 1900)
    return names


with_includes("a case over 8 MB in all", too_much_in_all, big=True)


def too_many_files(folder: Path) -> list[str]:
    for number in range(250):
        (folder / f"f{number}.yaml").write_text("states: []\n")
    return [f"f{number}.yaml" for number in range(250)]


with_includes("a case of 250 files", too_many_files)


def cycle(folder: Path) -> list[str]:
    (folder / "a.yaml").write_text("include: [b.yaml]\nstates: [{id: a, name: A}]\n")
    (folder / "b.yaml").write_text("include: [a.yaml, case.yaml]\nstates: [{id: b, nmae: B}]\n")
    return ["a.yaml"]


with_includes("an include cycle with a typo", cycle)
with_includes("the note included 3,000 times, and a typo", lambda f: (
    (f / "t.yaml").write_text("states: [{id: t, nam: T}]\n") and ["t.yaml"] + ["case.yaml"] * 3000))
with_includes("an included file not UTF-8", lambda f: [
    (f / "l.yaml").write_bytes("states: [{id: l, name: Besançon}]\n".encode("latin-1"))
    and "l.yaml"])
with_includes("an included alias bomb", lambda f: [
    (f / "bomb.yaml").write_text(
        "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 9)))
    and "bomb.yaml"])
case("include is not a list")(lambda f: (
    (f / "case.yaml").write_text(as_yaml({"include": "other.yaml", **BASE})) and f / "case.yaml"))
case("include lists numbers and mappings")(lambda f: (
    (f / "case.yaml").write_text(as_yaml({"include": [5, {"a": 1}], **BASE}))
    and f / "case.yaml"))


# -- Bytes that are not UTF-8 text, or text that is not YAML or JSON. --

TEXT = as_yaml(BASE)
written("latin-1 yaml", TEXT.replace("Example City", "Besançon").encode("latin-1"))
written("latin-1 json", as_json(BASE).replace("Example City", "Besançon").encode("latin-1"),
        ".json")
written("utf-16 yaml", TEXT.encode("utf-16"))
written("utf-16 json", as_json(BASE).encode("utf-16"), ".json")
written("utf-32 json", as_json(BASE).encode("utf-32"), ".json")
written("a stray 0xff byte", TEXT.encode()[:200] + b"\xff" + TEXT.encode()[200:])
written("utf-8 cut mid-character", TEXT.encode() + "é".encode()[:1])
written("an overlong utf-8 slash", TEXT.encode() + b"x: \xc0\xaf\n")
written("a surrogate encoded in utf-8", TEXT.encode() + b"x: \xed\xa0\x80\n")
written("a NUL byte in yaml", TEXT + "x: 1\x00\n")
written("a NUL byte in json", as_json(BASE)[:-2] + "\x00}", ".json")
written("a BEL byte", TEXT + "x: \x07\n")
written("an ANSI escape sequence", TEXT.replace("Example City", "\x1b[2J\x1b[31mCity", 1))
written("a raw C1 control", TEXT.replace("Example City", "Example\x85City", 1))
written("a raw DEL", TEXT.replace("Example City", "Example\x7fCity", 1))
written("an empty yaml file", "")
written("an empty json file", "", ".json")
written("a blank yaml file", "\n   \n\n")
written("a yaml file of comments", "# nothing here\n# at all\n")
written("a byte-order mark only", b"\xef\xbb\xbf", ".json")
written("yaml null", "~\n")
written("a yaml list", "- note\n- incidents\n")
written("a yaml scalar", "protest against everything\n")
written("a json list", "[1, 2, 3]", ".json")
written("a json string", '"note"', ".json")
written("json null", "null", ".json")
written("a json number", "12", ".json")
written("two yaml documents", TEXT + "---\n" + TEXT)
written("bad yaml indentation", TEXT.replace("\n  ", "\n ", 3))
written("tabs for yaml indentation", TEXT.replace("\n  ", "\n\t", 3))
written("an unclosed yaml flow list", "note: [a, b\n")
written("an unclosed yaml quote", 'note: "protest\n')
written("a json trailing comma", as_json(BASE)[:-2] + ",\n}", ".json")
written("json with single quotes", as_json(BASE).replace('"', "'"), ".json")
written("json with comments", "// a note\n" + as_json(BASE), ".json")
written("json truncated", as_json(BASE)[:300], ".json")
written("json with data after it", as_json(BASE) + "{}", ".json")
written("an unterminated json string of escapes", '{"note": "' + '\\"' * 300_000, ".json")
written("json nested 100,000 deep", "[" * 100_000 + "]" * 100_000, ".json", big=True)
written("json objects nested 100,000 deep", '{"a":' * 100_000 + "1" + "}" * 100_000, ".json",
        big=True)
written("yaml flow nested 100,000 deep", "note: " + "[" * 100_000 + "]" * 100_000, big=True)
written("yaml blocks nested 500 deep", "".join("  " * depth + "a:\n" for depth in range(500)))
written("a json lone high surrogate", as_json(changed((*INCIDENT, "account"), "X"))
        .replace('"X"', '"\\ud800"'), ".json")
written("a json lone low surrogate", as_json(changed((*INCIDENT, "place"), "X"))
        .replace('"X"', '"a\\udc00b"'), ".json")
written("a json surrogate in a key", '{"note\\ud83d": {}}', ".json")
written("a json surrogate pair reversed", as_json(changed(("note", "protest"), "X"))
        .replace('"X"', '"\\udc00\\ud800"'), ".json")
written("a 2.5 MB yaml file", TEXT + "# " + "x" * 2_600_000 + "\n", big=True)
written("a 2.5 MB json file", as_json(BASE)[:-2] + ',"pad": "' + "x" * 2_600_000 + '"}',
        ".json", big=True)
written("250,000 yaml values", "incidents: [" + "1," * 250_000 + "1]\n", big=True)
written("250,000 json values", '{"incidents": [' + "1," * 250_000 + "1]}", ".json", big=True)
written("50,000 broken incidents", "incidents: [" + "1," * 50_000 + "1]\n")


# -- Aliases, anchors, tags and keys. --

LAUGHS = "lols:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10))
yaml_case("a billion laughs", LAUGHS, big=True)
yaml_case("a merge-key bomb", "m0: &m0 {a: 1, b: 2}\n" + "".join(
    f"m{n}: &m{n} [{', '.join([f'{{<<: *m{n - 1}, k{k}: 1}}' for k in range(10)])}]\n"
    for n in range(1, 2)) + "".join(
    f"l{n}: &l{n} [{', '.join([f'*{prev}' for _ in range(10)])}]\n"
    for n, prev in [(1, "m1"), (2, "l1"), (3, "l2"), (4, "l3"), (5, "l4"), (6, "l5")]),
    big=True)
yaml_case("one anchor aliased 2,000 times", "big: &big [" + ", ".join(["x"] * 100) + "]\n"
          "many: [" + ", ".join(["*big"] * 2000) + "]\n")
yaml_case("a recursive list alias", "loop: &a [1, *a]\n")
yaml_case("a recursive mapping alias", "loop: &a {self: *a}\n")
written("a recursive alias as the note", TEXT.replace("note:\n", "note: &n\n  again: *n\n", 1))
yaml_case("an undefined alias", "x: *nowhere\n")
yaml_case("a duplicate anchor", "x: &a 1\ny: &a 2\n")
written("a yaml section given twice", TEXT + "note: {}\n")
written("a yaml key given twice", TEXT.replace("  date: ", "  date: 2025-01-01\n  date: ", 1))
written("a json section given twice", as_json(BASE)[:-2] + ',\n "note": {}\n}', ".json")
written("a json key given twice", as_json(BASE).replace('"date":', '"date": "x",\n "date":', 1),
        ".json")
written("a json key given twice, escaped", as_json(BASE).replace(
    '"date":', '"d\\u0061te": "x", "date":', 1), ".json")
yaml_case("a python object tag", "x: !!python/object/apply:os.system [echo pwned]\n")
yaml_case("a python name tag", "x: !!python/name:os.system\n")
yaml_case("an unknown local tag", "x: !secret /etc/passwd\n")
written("binary where text goes", TEXT.replace("place: Example City",
                                               "place: !!binary aGVsbG8=", 1))
yaml_case("a bool tag on a word", "x: !!bool perhaps\n")
yaml_case("a timestamp tag on a bad date", "x: !!timestamp 2025-13-45\n")
yaml_case("an int tag on a word", "x: !!int twelve\n")
yaml_case("a float tag on a word", "x: !!float many\n")
yaml_case("a set tag", "x: !!set {a, b}\n")
yaml_case("an unhashable key", "? [a, b]\n: c\n")
yaml_case("a merge of a scalar", "x: {<<: 1}\n")
written("a 5,000-digit yaml number", TEXT + "x: " + "9" * 5000 + "\n")
written("a 5,000-digit json number", as_json(BASE)[:-2] + ', "x": ' + "9" * 5000 + "}", ".json")
written("a 100,000-digit hex number", TEXT + "x: 0x" + "f" * 100_000 + "\n")


# -- Numbers: infinite, not a number, absurdly large. --

DISTANCE = (*INCIDENT, "impacts", 0, "distance")
written("a distance of .inf", as_yaml(changed(DISTANCE, {"value": 1})).replace(
    "value: 1", "value: .inf"))
written("a distance of -.inf", as_yaml(changed(DISTANCE, {"value": 1})).replace(
    "value: 1", "value: -.inf"))
written("a distance of .nan", as_yaml(changed(DISTANCE, {"value": 1})).replace(
    "value: 1", "value: .nan"))
written("a distance of 1e999", as_json(changed(DISTANCE, {"value": 1})).replace(
    '"value": 1', '"value": 1e999'), ".json")
written("a distance of NaN in json", as_json(changed(DISTANCE, {"value": 1})).replace(
    '"value": 1', '"value": NaN'), ".json")
written("a distance of -Infinity in json", as_json(changed(DISTANCE, {"value": 1})).replace(
    '"value": 1', '"value": -Infinity'), ".json")
in_both("a distance written '1e999'", DISTANCE, {"value": "1e999"})
in_both("a distance of 10^300", DISTANCE, {"value": 1e300})
in_both("40-digit casualties", (*INCIDENT, "casualties"), {"killed": 10**40})
in_both("a million and one injured", (*INCIDENT, "casualties"), {"injured": 1_000_001})
in_both("40-digit agents harmed", (*INCIDENT, "agents_harmed"), 10**40)
in_both("negative casualties", (*INCIDENT, "casualties"), {"killed": -1})
in_both("half a casualty", (*INCIDENT, "casualties"), {"killed": 1.5})
written("a weapon count of .inf", as_yaml(changed((*INCIDENT, "means"), [
    {"kind": "missile", "count": 1}])).replace("count: 1", "count: .inf"))


# -- Texts: too long, or holding what a reader cannot see. --

in_both("a 1.9 MB account", (*INCIDENT, "account"), "a" * 1_900_000, big=True)
in_both("a 10,001-character place", (*INCIDENT, "place"), {"en": "x" * 10_001})
in_both("a 20,000-character protest", ("note", "protest"), "protest " * 2500)
HIDDEN = {
    "U+202E in the account": ((*INCIDENT, "account"), "police \u202eofficers entered"),
    "U+202A in a place": ((*INCIDENT, "place"), {"en": "Example \u202aCity"}),
    "U+2067 in a party name": (("parties", 1, "name"), "the Embassy \u2067of Example"),
    "U+2069 in the protest": (("note", "protest"), "protest\u2069 against it"),
    "U+200E in a facility name": (("facilities", 0, "name"), "the Embassy\u200e of France"),
    "U+061C in a state name": (("states", 1, "name"), "the Republic\u061c of Example"),
    "U+200B in the protest": (("note", "protest"), "protest\u200b against it"),
    "U+200D in the account": ((*INCIDENT, "account"), "police\u200d officers entered"),
    "U+200C in a short name": (("parties", 1, "short_name"), "the\u200c Embassy"),
    "U+2060 in a letterhead": (("parties", 0, "letterhead"), ["Ministry\u2060 for Europe"]),
    "U+FEFF inside a text": (("parties", 0, "seat"), "Pa\ufeffris"),
    "U+2028 in an address": (("parties", 1, "address"), ["Paris\u2028Cedex"]),
    "U+2029 in the account": ((*INCIDENT, "account"), "police officers\u2029entered"),
    "NUL in the account": ((*INCIDENT, "account"), "police\x00 officers"),
    "BEL in a place": ((*INCIDENT, "place"), "Example\x07 City"),
    "ESC sequences in a side": (("states", 0, "side"), "\x1b[2J\x1b[31mthe French side"),
    "CSI (C1) in a weapon name": ((*INCIDENT, "means"), [{"kind": "other", "name": "x\x9b2J"}]),
    "DEL in a demand": (("note", "demands"), [{"kind": "other", "text": "pay\x7f now"}]),
    "U+202E in a source publisher": ((*INCIDENT, "sources"), [
        {"title": "a report", "publisher": "the \u202eMinistry"}]),
    "ESC in a source title": ((*INCIDENT, "sources"), [{"title": "\x1b]0;owned\x07 report"}]),
    "U+2066 in a damage item": ((*INCIDENT, "damage"), ["a \u2066car"]),
    "U+202D in a reply reference": (("note", "in_reply_to"), {"reference": "12\u202d/2025",
                                                              "date": "2025-03-01"}),
}
for label, (where, value) in HIDDEN.items():
    in_both(label, where, value)


# -- Keys, ids and patterns made to garble the message. --

written("a 100,000-character key", as_json({"k" * 100_000: 1, **BASE}), ".json")
written("an ANSI escape in a key", as_json({"\x1b[2Jkey": 1, **BASE}), ".json")
written("U+202E in a key", as_json({"ab\u202ecd": 1, **BASE}), ".json")
in_both("U+202E in an id", ("states", 1, "id"), "x\u202ex")
in_both("a 1 MB id", ("states", 1, "id"), "x" * 1_000_000, big=True)
in_both("a 1 MB article", ("note", "legal_bases"), [{"article": "v" * 1_000_000}])
in_both("a NUL in a language code", (*INCIDENT, "place"), {"e\x00n": "Example City"})


# -- The tests. --

@dataclass
class Outcome:
    seconds: float
    located: bool
    with_line: bool


#: What each case did, for the figures.
FIGURES: dict[str, Outcome] = {}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # A short folder: a socket's path may not be long.
    folder = tmp_path_factory.mktemp("hostile")
    yield folder
    for server in SOCKETS:
        server.close()


def made(corpus: Path, name: str) -> Path:
    folder = corpus / re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not folder.exists():
        folder.mkdir()
    return CASES[name].make(folder)


def check_located(stderr: str, path: Path) -> tuple[bool, bool]:
    """Whether ``stderr`` names a file for every problem, and line and
    column for the first."""
    assert stderr.startswith("Error: the records have "), stderr[:500]
    problems = stderr.splitlines()[1:]
    assert problems, stderr
    found = [LOCATED.match(line) for line in problems]
    assert all(found), [line for line, match in zip(problems, found, strict=True)
                        if match is None][:3]
    files = {Path(match["file"]) for match in found if match}
    assert all(file == path or file.exists() or str(file).startswith("/dev/")
               for file in files), files
    first = found[0]
    assert first is not None
    return True, first["line"] is not None


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_case_is_refused_with_a_located_error(corpus: Path, runner: CliRunner,
                                                        name: str) -> None:
    path = made(corpus, name)
    start = time.monotonic()
    result = runner.invoke(cli, ["validate", str(path)])
    seconds = time.monotonic() - start
    assert not isinstance(result.exception, BaseException) or isinstance(
        result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output[-2000:]
    assert "Traceback" not in result.output
    assert len(result.stderr) < MAX_STDERR, len(result.stderr)
    assert result.stdout == ""
    located, with_line = check_located(result.stderr, path)
    assert seconds < 30

    start = time.monotonic()
    with pytest.raises(RecordError) as info:
        load_case(path)
    seconds = max(seconds, time.monotonic() - start)
    assert str(info.value).encode("utf-8")  # printable, whatever the input held
    for problem in info.value.problems:
        assert problem.location.file is not None, problem
    if CASES[name].single:
        raw = path.read_bytes()
        start = time.monotonic()
        with pytest.raises(RecordError) as posted:
            load_case_data(raw, "case" + path.suffix)
        seconds = max(seconds, time.monotonic() - start)
        assert str(posted.value).encode("utf-8")
        assert all(p.location.file == Path("case" + path.suffix)
                   for p in posted.value.problems), posted.value
    assert seconds < 30
    FIGURES[name] = Outcome(seconds, located, with_line)


BOUNDED = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({1 << 30}, {1 << 30}))
from notegen.cli import cli
cli(["validate", *sys.argv[1:]])
"""


def test_the_largest_cases_stay_under_1_gib(corpus: Path) -> None:
    paths = [made(corpus, name) for name, hostile in CASES.items() if hostile.big]
    assert len(paths) >= 10
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", BOUNDED, *map(str, paths)],
                            capture_output=True, text=True, timeout=120, check=False)
    seconds = time.monotonic() - start
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "MemoryError" not in result.stderr
    assert result.stdout == ""
    for path in paths:
        assert f"  {path}" in result.stderr, path
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    FIGURES["(bounded child)"] = Outcome(seconds, True, True)
    sys.stdout.write(f"\n{len(paths)} largest cases in one child limited to 1 GiB: exit 1 "
                     f"in {seconds:.1f} s, peak resident memory {peak:.0f} MB\n")


def test_corpus_figures() -> None:
    outcomes = {name: FIGURES[name] for name in CASES if name in FIGURES}
    if len(outcomes) < len(CASES):
        pytest.skip("run the whole file for the figures")
    assert len(CASES) >= 90
    located = sum(outcome.located for outcome in outcomes.values())
    with_line = sum(outcome.with_line for outcome in outcomes.values())
    slowest = max(outcomes, key=lambda name: outcomes[name].seconds)
    sys.stdout.write(f"\nhostile record cases: {len(CASES)}; located: {located} "
                     f"({located / len(CASES):.0%}), with line and column: {with_line}; "
                     f"tracebacks: 0; slowest: {slowest!r} {outcomes[slowest].seconds:.2f} s\n")
    assert located == len(CASES)
