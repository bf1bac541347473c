"""A clone with nothing beside it is complete: every fixture the tests read is inside the repository
with its source note, and no file points outside it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixture_files import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".git", ".venv", "instance", "test-artifacts", "__pycache__", "node_modules"}
# The folder beside the repository where material is gathered; spelt in pieces so this file does
# not match itself.
OUTSIDE = re.compile("|".join([r"\.\./" + "shared", "shared" + r"/(fixtures|reference)",
                               r"[\"']" + "shared" + r"[\"']"]))


def project_files():
    for path in ROOT.rglob("*"):
        if path.is_file() and not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def source_note(fixture: Path) -> Path:
    """``x.json`` → ``x.source.txt``; ``x.graphql.xz`` → ``x.graphql.source.txt``."""
    name = fixture.name.removesuffix(".xz")
    stem = name if name.endswith(".graphql") else name.rsplit(".", 1)[0]
    return fixture.with_name(f"{stem}.source.txt")


# The payloads and vectors the tests read; the pytest fixture modules beside them (``tests/fixtures/*.py``)
# are the suite's code, not material from outside.
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and not p.name.endswith(".source.txt")
                       and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)


def test_the_fixtures_are_in_the_repository():
    assert {p.parent.name for p in FIXTURE_FILES} == {"shopify", "carriers", "labels"}
    assert len(FIXTURE_FILES) >= 25


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_has_its_source_note(fixture):
    note = source_note(fixture)
    assert note.is_file(), f"{fixture.name} has no {note.name}"
    assert re.search(r"(?i)source|https?://", note.read_text(encoding="utf-8"))


def test_no_file_points_outside_the_repository():
    offenders = []
    for path in project_files():
        if path == Path(__file__).resolve() or path.suffix in {".xz", ".png", ".pkl", ".sqlite3"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == []


def test_the_check_would_catch_a_path_outside():
    assert OUTSIDE.search('FIXTURES = ROOT.parent / "' + 'shared" / "fixtures"')
    assert OUTSIDE.search("see ../" + "shared/DESIGN.md")
    assert not OUTSIDE.search("shared by every template")


def test_no_tracked_file_is_a_link_out_of_the_repository():
    """A clone must not carry a link to a place on the machine it was made on (a virtualenv, say)."""
    import subprocess

    listed = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.fail(f"git ls-files failed: {listed.stderr}")  # the suite runs from a clone
    links = [line.split("\t", 1)[1] for line in listed.stdout.splitlines() if line.startswith("120000 ")]
    assert links == []
