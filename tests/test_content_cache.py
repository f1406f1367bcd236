"""Is the validated course kept between runs safely, and never trusted when stale, damaged or exposed?"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from course import loader
from course.bank import cache
from course.errors import ContentError
from course.loader import load_course
from tests.conftest import MINI


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the mini course, and a cache folder of this test's own (not created yet)."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache" / "content"))
    return Path(shutil.copytree(MINI, tmp_path / "mini"))


def _no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(root: Path, check: bool) -> loader.Course:
        raise AssertionError("the content was read and checked again")

    monkeypatch.setattr(loader, "_load", refuse)


def _cached_file(content: Path) -> Path:
    (path,) = (Path(os.environ["COURSE_CACHE_DIR"])).glob("*.pickle")
    return path


def test_a_second_load_is_a_read_of_one_private_file(content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is the second load the same course without reading the YAML, from a 0600 file in a 0700 folder?"""
    first = load_course(content)
    path = _cached_file(content)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    _no_reading(monkeypatch)
    again = load_course(content)
    assert again == first and again is not first
    assert [q.id for q in again.questions] == [q.id for q in first.questions]
    assert again.sources["ch01-001"].line("stem") == first.sources["ch01-001"].line("stem")


def test_a_changed_question_file_is_read_again(content: Path) -> None:
    """Does an edited stem show at once (the key holds every file's hash)?"""
    load_course(content)
    qfile = content / "questions" / "ch01.yaml"
    text = qfile.read_text(encoding="utf-8")
    old = load_course(content).by_id["ch01-001"].stem
    qfile.write_text(text.replace(old, old + "（修订）", 1), encoding="utf-8")
    assert load_course(content).by_id["ch01-001"].stem == old + "（修订）"


def test_a_new_question_file_is_noticed(content: Path) -> None:
    """Is a question file that was not there before part of the key (here: a chapter the syllabus lacks)?"""
    load_course(content)
    shutil.copy(content / "questions" / "ch01.yaml", content / "questions" / "ch09.yaml")
    with pytest.raises(ContentError) as caught:
        load_course(content)
    assert ("mini/questions/ch09.yaml:1: chapter 'ch09': is not a chapter of syllabus.yaml: add it to the syllabus "
            "or rename the file") in str(caught.value)


def test_changed_loading_code_makes_the_cache_stale(content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is a course cached by other code (another rule, another Python) read again?"""
    load_course(content)
    calls = []
    real = loader._load
    monkeypatch.setattr(loader, "_load", lambda root, check: calls.append(root) or real(root, check))
    monkeypatch.setattr(cache, "code_version", lambda: "another version of the rules")
    load_course(content)
    assert calls == [content]


def test_content_with_a_problem_is_never_cached(content: Path) -> None:
    """Is a course that fails its checks reported on every load, and nothing kept?"""
    qfile = content / "questions" / "ch01.yaml"
    qfile.write_text(qfile.read_text(encoding="utf-8").replace("answer: A", "answer: Z", 1), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ContentError, match="answer 'Z' is not an option"):
            load_course(content)
    assert not list(Path(os.environ["COURSE_CACHE_DIR"]).glob("*.pickle"))


@pytest.mark.parametrize("damage", ["truncated", "a flipped byte", "not a cache file", "empty", "another course"])
def test_a_damaged_cache_file_is_rebuilt_never_trusted(content: Path, damage: str) -> None:
    """Is a torn, altered or foreign file ignored, the content read again and the file rewritten whole?"""
    expected = load_course(content)
    path = _cached_file(content)
    data = path.read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "a flipped byte":
        data = data[:-100] + bytes([data[-100] ^ 0x01]) + data[-99:]
    elif damage == "not a cache file":
        data = b"\x80\x05K\x01."  # a valid pickle of 1, without the header
    elif damage == "empty":
        data = b""
    else:  # a well-formed file of another key
        data = data.replace(data[len(cache.MAGIC):len(cache.MAGIC) + 64], b"0" * 64, 1)
    path.write_bytes(data)
    assert load_course(content) == expected
    assert cache.read(content, cache.content_key(content, loader.content_files(content))) == expected  # rewritten


def test_an_open_cache_folder_is_closed_before_use(content: Path) -> None:
    """Is a cache folder of this user that others could read made 0700 before a course goes in?"""
    folder = Path(os.environ["COURSE_CACHE_DIR"])
    folder.mkdir(parents=True, mode=0o755)
    os.chmod(folder, 0o755)
    load_course(content)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(list(folder.glob("*.pickle"))) == 1


def test_a_cache_folder_that_is_a_link_is_not_used(content: Path, tmp_path: Path) -> None:
    """Is nothing written through a link planted where the cache folder should be, and the course still loaded?"""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o777)
    folder = Path(os.environ["COURSE_CACHE_DIR"])
    folder.parent.mkdir(parents=True)
    folder.symlink_to(elsewhere)
    assert len(load_course(content).questions) == len(load_course(MINI).questions)
    assert list(elsewhere.iterdir()) == []


def test_a_cache_file_others_could_write_is_ignored(content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is a cache file with group or other permissions never unpickled?"""
    load_course(content)
    path = _cached_file(content)
    os.chmod(path, 0o666)
    calls = []
    real = loader._load
    monkeypatch.setattr(loader, "_load", lambda root, check: calls.append(root) or real(root, check))
    load_course(content)
    assert calls == [content]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_cache_folder_or_file_of_another_user_is_not_used(content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is a folder or file owned by another account (here: nobody) never read?"""
    load_course(content)
    path = _cached_file(content)
    os.chown(path, 65534, 65534)
    calls = []
    real = loader._load
    monkeypatch.setattr(loader, "_load", lambda root, check: calls.append(root) or real(root, check))
    load_course(content)
    assert calls == [content]
    os.chown(path.parent, 65534, 65534)
    load_course(content)
    assert calls == [content, content]


def test_without_a_usable_cache_folder_the_course_still_loads(content: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a cache folder that cannot be made (a file stands in its way) leave load_course working?"""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(blocker / "content"))
    assert len(load_course(content).questions) == len(load_course(MINI).questions)
