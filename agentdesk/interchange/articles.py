"""Knowledge articles from a folder of Markdown files into the store, as interchange ``article`` records.

Each ``*.md`` file (in any subfolder, hidden ones left out) is one article: YAML front matter with ``title`` and
optionally ``products`` and ``tags`` (lists of strings; one string is taken as a list of
one), then the body in Markdown, kept as written. The record's id is the file's path
under the folder, without ``.md`` (``roadside/mirror``), so importing the folder again
updates each article instead of adding a second one. Other front-matter keys travel
with the record, as any unknown interchange field does.

The front matter is read by ``python-frontmatter`` (with PyYAML's safe loader). A file
whose front matter cannot be read, or lacks a title, is refused in one line naming it;
every other file still loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from agentdesk.interchange.codec import RecordError, parse_record, to_json_obj
from agentdesk.store.knowledge import stored_articles
from agentdesk.store.writer import StoreWriter, open_writer

SUFFIX = ".md"
_LISTS = ("products", "tags")


class ArticleFileError(ValueError):
    """A Markdown file that is not an article; ``str()`` is one line naming the file."""


@dataclass
class ArticleFile:
    path: Path
    """As found under the folder (for messages)."""
    obj: dict[str, Any]
    """The interchange object."""


@dataclass
class KnowledgeReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    """One line per refused file, naming it."""
    articles: list[dict[str, Any]] = field(default_factory=list)
    """The interchange objects of every good file (what an upload sends)."""

    def summary(self) -> str:
        return (f"{self.new} new, {self.updated} updated, {len(self.refused)} refused"
                + (f" ({self.unchanged} unchanged)" if self.unchanged else ""))


def article_id(path: Path, root: Path) -> str:
    """``roadside/mirror`` for ``ROOT/roadside/mirror.md``: the same file always gives the same id."""
    return path.relative_to(root).with_suffix("").as_posix()


def markdown_files(root: Path) -> Iterator[Path]:
    """The ``*.md`` files under ``root``, in a stable order (by path); hidden files and folders (``.git``,
    an editor's ``.obsidian``) are not articles."""
    found = (path for path in root.rglob(f"*{SUFFIX}")
             if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts))
    return iter(sorted(found))


def read_article(path: Path, root: Path) -> dict[str, Any]:
    """The interchange object of one Markdown file, checked by the codec, or :class:`ArticleFileError`."""
    shown = path.relative_to(root).as_posix()
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ArticleFileError(f"{shown}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ArticleFileError(f"{shown}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ArticleFileError(f"{shown}: the front matter is not valid YAML ({_yaml_problem(exc)})") from None
    except ValueError as exc:  # python-frontmatter: the front matter is YAML but not a mapping
        raise ArticleFileError(f"{shown}: the front matter must be 'key: value' lines ({exc})") from None
    obj: dict[str, Any] = {"type": "article", "id": article_id(path, root)}
    metadata: Mapping[str, Any] = post.metadata
    if "title" not in metadata:
        raise ArticleFileError(f"{shown}: the front matter has no title")
    for key, value in metadata.items():
        if key in ("type", "id", "body"):
            raise ArticleFileError(f"{shown}: the front matter may not set {key!r}; the file decides it")
        obj[key] = [value] if key in _LISTS and isinstance(value, str) else value
    obj["body"] = post.content
    try:
        json.dumps(obj)
    except (TypeError, ValueError):
        bad = next(key for key, value in metadata.items() if not _json_value(value))
        raise ArticleFileError(f"{shown}: front matter {bad!r} holds a {type(metadata[bad]).__name__}, "
                               "not text, a number or a list (quote it)") from None
    try:
        parse_record(obj)
    except RecordError as exc:
        raise ArticleFileError(f"{shown}: {exc}") from None
    return obj


def _json_value(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    # python-frontmatter hands YAML the text from the end of the opening '---' line on, so the mark's
    # line counted from 0 is the file's line counted from 1.
    return f"line {mark.line + 1}: {problem}" if mark is not None else problem


def read_folder(root: Path) -> tuple[list[ArticleFile], list[str]]:
    """Every article under ``root`` and one line for each file refused."""
    good: list[ArticleFile] = []
    refused: list[str] = []
    for path in markdown_files(root):
        try:
            good.append(ArticleFile(path, read_article(path, root)))
        except ArticleFileError as exc:
            refused.append(str(exc))
    return good, refused


async def import_folder(root: Path, store_path: Path | str) -> KnowledgeReport:
    """Read the articles under ``root`` and upsert them into the store (one transaction)."""
    if not root.is_dir():
        raise ArticleFileError(f"{root}: not a folder")
    files, refused = read_folder(root)
    report = KnowledgeReport(refused=refused, articles=[file.obj for file in files])
    records = [parse_record(file.obj) for file in files]
    writer = await open_writer(store_path)
    try:
        before = await _stored(writer, [record.id for record in records])
        for record in records:
            if record.id not in before:
                report.new += 1
            elif before[record.id] != to_json_obj(record):
                report.updated += 1
            else:
                report.unchanged += 1
        await writer.upsert(records)
    finally:
        await writer.close()
    return report


async def _stored(writer: StoreWriter, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored articles among ``ids``, as canonical interchange objects."""
    return {article.id: to_json_obj(article) for article in await stored_articles(writer, ids)}
