"""Knowledge articles: Markdown in, the codec, the store's full-text search, the articles for a case,
and the way to every workstation (upload to a real in-process backend, pull into another store)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdesk.domain.knowledge import article_line, case_expression, case_product, search_expression, words
from agentdesk.domain.model import Article, Case, CaseStatus, Customer
from agentdesk.interchange.articles import import_folder
from agentdesk.interchange.codec import RecordError, dumps, parse_line, parse_record, to_json_obj
from agentdesk.interchange.dump import dump_jsonl
from agentdesk.interchange.load import load_jsonl
from agentdesk.store.reader import StoreReader
from agentdesk.sync.client import BackendClient
from agentdesk.sync.upload import upload
from tests.backend import add_user, database, fetch, in_process, server  # noqa: F401 - fixtures
from tests.test_sync import sync_once

MIRROR = """---
title: Loose or broken mirror on the road
products: [Camper Assistance Plus]
tags: [mirror, roadside]
---
# Loose or broken mirror

Ask where the vehicle stands; a taped mirror is **not** safe to drive at night.
"""

TYRE = """---
title: Flat tyre
products: Camper Assistance Plus
tags: tyre
---
Send the roadside partner; the spare wheel is under the rear.
"""

INVOICE = """---
title: Double charge on an invoice
tags: [billing, refund]
---
Refund the second charge at once; no fee.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    write(folder, "roadside/mirror.md", MIRROR)
    write(folder, "roadside/tyre.md", TYRE)
    write(folder, "billing/double-charge.md", INVOICE)
    return folder


def case(subject: str, **extra: object) -> Case:
    return Case(id="k-1", customer="c-1", subject=subject, status=CaseStatus.OPEN,
                opened_at=datetime(2026, 7, 14, 1, 32, tzinfo=timezone.utc), extra=dict(extra))


# --- Markdown in ---------------------------------------------------------------------------------------------


async def test_a_folder_loads_and_loading_it_again_updates_instead_of_doubling(articles: Path, store_path: Path):
    first = await import_folder(articles, store_path)
    assert (first.new, first.updated, first.refused) == (3, 0, [])
    assert first.summary() == "3 new, 0 updated, 0 refused"
    write(articles, "roadside/tyre.md", TYRE.replace("under the rear", "under the floor"))
    write(articles, "roadside/awning.md", "---\ntitle: Awning will not close\n---\nCrank it by hand.\n")
    write(articles, ".git/notes.md", "not an article")  # hidden: left out
    again = await import_folder(articles, store_path)
    assert again.summary() == "1 new, 1 updated, 0 refused (2 unchanged)"
    async with StoreReader.open(store_path) as reader:
        tyre = await reader.article("roadside/tyre")
        assert tyre is not None and "under the floor" in tyre.body
        assert tyre.products == ("Camper Assistance Plus",) and tyre.tags == ("tyre",)  # one string, a list of one
        assert len(await reader.search_articles("", limit=50)) == 4


async def test_bad_front_matter_is_one_line_naming_the_file_and_nothing_else_is_lost(articles: Path,
                                                                                    store_path: Path) -> None:
    write(articles, "broken/yaml.md", "---\ntitle: [unclosed\n---\nbody\n")
    write(articles, "broken/untitled.md", "Just text, no front matter.\n")
    write(articles, "broken/numbers.md", "---\ntitle: Tags\ntags: [1, 2]\n---\nbody\n")
    write(articles, "broken/date.md", "---\ntitle: Dated\nreviewed: 2026-07-01\n---\nbody\n")
    (articles / "broken" / "latin1.md").write_bytes("---\ntitle: Gr\xfc\xdfe\n---\n".encode("latin-1"))
    report = await import_folder(articles, store_path)
    assert report.summary() == "3 new, 0 updated, 5 refused"
    assert report.refused == [
        "broken/date.md: front matter 'reviewed' holds a date, not text, a number or a list (quote it)",
        "broken/latin1.md: not UTF-8 text (byte 13)",
        "broken/numbers.md: article broken/numbers: tags must be a list of strings; item 1 is number",
        "broken/untitled.md: the front matter has no title",
        "broken/yaml.md: the front matter is not valid YAML (line 3: did not find expected ',' or ']')",
    ]
    assert all("\n" not in line for line in report.refused)


def test_the_command_prints_the_refusals_and_the_summary(articles: Path, tmp_path: Path) -> None:
    write(articles, "bad.md", "---\n: : :\n---\n")
    result = subprocess.run([sys.executable, "-m", "agentdesk", "knowledge", "import", str(articles),
                             "--db", str(tmp_path / "store.sqlite3")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("agentdesk: bad.md: the front matter is not valid YAML")
    assert lines[1:] == ["3 new, 0 updated, 1 refused"]


# --- the codec -----------------------------------------------------------------------------------------------


def test_an_article_goes_through_the_codec_and_back_unchanged() -> None:
    line = ('{"type":"article","id":"roadside/mirror","title":"Mirror","products":["Camper Assistance Plus"],'
            '"tags":["mirror"],"body":"# Mirror\\n\\nTape it.","reviewed_by":"a-2"}')
    record = parse_line(line.encode())
    assert isinstance(record, Article) and record.extra == {"reviewed_by": "a-2"}
    assert dumps(to_json_obj(record)) == line
    bare = parse_record({"type": "article", "id": "a", "title": "T", "body": ""})
    assert to_json_obj(bare) == {"type": "article", "id": "a", "title": "T", "body": ""}


@pytest.mark.parametrize(("obj", "refusal"), [
    ({"type": "article", "id": "a", "body": "x"}, "article a: missing required field 'title'"),
    ({"type": "article", "id": "a", "title": "", "body": "x"}, "article a: title must not be empty"),
    ({"type": "article", "id": "a", "title": "T"}, "article a: missing required field 'body'"),
    ({"type": "article", "id": "a", "title": "T", "body": "x", "tags": "x"},
     "article a: tags must be a list of strings, not string"),
    ({"type": "article", "id": "a", "title": "T", "body": "x", "products": ["ok", None]},
     "article a: products must be a list of strings; item 2 is null"),
])
def test_the_codec_refuses_a_malformed_article_in_one_line(obj: dict, refusal: str) -> None:
    with pytest.raises(RecordError) as raised:
        parse_record(obj)
    assert str(raised.value) == refusal


# --- search --------------------------------------------------------------------------------------------------


HOSTILE = ['"', '""', '"mirror', "mirror*", "*", "NEAR(mirror tyre)", "mirror NEAR tyre", "-mirror", "mirror -tyre",
           "title:mirror", "{title}: mirror", "^mirror", "mirror AND", "OR", "NOT mirror", "(mirror", "mirror)",
           "'; DROP TABLE article; --", "\x00", "\u202emirror", "mirror + tyre", "a:b:c", "[mirror]", "\\"]


@pytest.mark.parametrize("query", HOSTILE)
async def test_a_hostile_query_is_words_and_never_raises(articles: Path, store_path: Path, query: str) -> None:
    await import_folder(articles, store_path)
    async with StoreReader.open(store_path) as reader:
        found = await reader.search_articles(query)
        assert await reader.article("roadside/mirror") is not None  # nothing was dropped
    if words(query) == ["mirror"]:  # the operators around it are no words, and mean nothing
        assert [article.id for article in found] == ["roadside/mirror"]
    for article in found:  # "NEAR", "NOT", "title" are words an article must hold, like any other
        text = " ".join((article.title, article.body, *article.tags, *article.products)).casefold()
        assert all(word.casefold() in text for word in words(query))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=40))
def test_any_text_makes_an_expression_fts5_accepts(searchable: sqlite3.Connection, query: str) -> None:
    expression = search_expression(query)
    if expression is not None:
        searchable.execute("SELECT rowid FROM article_search WHERE article_search MATCH ?", (expression,)).fetchall()


@pytest.fixture
def searchable(store_path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(store_path)
    connection.execute("INSERT INTO article (id, title, body) VALUES ('a', 'Mirror', 'Tape it')")
    connection.commit()
    return connection


async def test_search_finds_every_word_as_typed_so_far_best_first(articles: Path, store_path: Path) -> None:
    await import_folder(articles, store_path)
    async with StoreReader.open(store_path) as reader:
        assert [a.id for a in await reader.search_articles("mirr")] == ["roadside/mirror"]
        assert sorted(a.id for a in await reader.search_articles("camper")) == ["roadside/mirror", "roadside/tyre"]
        assert [a.id for a in await reader.search_articles("camper refund")] == []  # every word must appear
        assert [a.id for a in await reader.search_articles("REFUND")] == ["billing/double-charge"]
        # A word in the title weighs more than the same word in the body.
        assert [a.id for a in await reader.search_articles("roadside")][0] == "roadside/mirror"
        assert [a.title for a in await reader.search_articles("")] == [
            "Double charge on an invoice", "Flat tyre", "Loose or broken mirror on the road"]


# --- the articles for a case ---------------------------------------------------------------------------------


def test_the_product_comes_from_the_case_then_the_customer() -> None:
    customer = Customer(id="c-1", name="Uwe", extra={"product": "Camper Assistance Plus"})
    assert case_product(case("Mirror", product="Fibre 250"), customer) == "Fibre 250"
    assert case_product(case("Mirror"), customer) == "Camper Assistance Plus"
    assert case_product(case("Mirror", product=42), None) is None
    assert case_product(case("Mirror"), Customer(id="c-2", name="Ann")) is None


def test_the_case_expression_quotes_everything_it_takes_from_the_case() -> None:
    assert case_expression(case('Mirror "came" loose on the A7', product='Camper "Plus"'), None) == \
        'products : "Camper Plus" OR "mirror" OR "came" OR "loose"'
    assert case_expression(case("On the A7"), None) is None  # no product, no telling word


async def test_a_case_gets_the_articles_of_its_product_and_subject_ranked(articles: Path, store_path: Path) -> None:
    await import_folder(articles, store_path)
    customer = Customer(id="c-1", name="Uwe", extra={"product": "Camper Assistance Plus"})
    async with StoreReader.open(store_path) as reader:
        found = await reader.articles_for_case(case("Mirror came loose on the A7 near Kassel"), customer)
        assert [a.id for a in found] == ["roadside/mirror", "roadside/tyre"]  # product and subject, then product
        by_subject = await reader.articles_for_case(case("Refund the double charge"), None)
        assert [a.id for a in by_subject] == ["billing/double-charge"]
        assert await reader.articles_for_case(case("Something else entirely"), None) == []


def test_an_article_line_is_one_safe_line() -> None:
    article = Article(id="a", title="Mirror\x1b[31m", body="\n# Heading\nmore")
    assert article_line(article) == "Mirror␛[31m — Heading"
    assert article_line(article, 10) == "Mirror␛[3…"
    repeated = Article(id="b", title="Loose mirror", body="# Loose mirror\n\n- Tape it for now.\n")
    assert article_line(repeated) == "Loose mirror — Tape it for now."  # the title is not said twice


# --- to every workstation ------------------------------------------------------------------------------------


async def test_uploaded_articles_reach_another_workstation_by_sync(database: str, articles: Path,
                                                                  tmp_path: Path) -> None:
    report = await import_folder(articles, tmp_path / "admin.sqlite3")
    async with in_process(database) as backend:
        admin, agent = add_user(backend.database, "admin", "admin"), add_user(backend.database, "a-7", "agent")
        async with BackendClient(backend.url, admin, transport=backend.transport) as client:
            sent = await upload(client, report.articles)
            again = await upload(client, report.articles)
        assert (sent.changed, sent.errors, again.changed, again.unchanged) == (3, [], 0, 3)
        other = tmp_path / "ben.sqlite3"
        await sync_once(other, backend, agent)
    async with StoreReader.open(other) as reader:
        found = await reader.search_articles("mirror")
        assert [a.id for a in found] == ["roadside/mirror"]
        assert found[0].products == ("Camper Assistance Plus",) and "not** safe" in found[0].body


def test_the_command_with_a_server_stores_locally_and_uploads(server, articles: Path, tmp_path: Path) -> None:
    """A real ``agentdesk serve`` process; the admin's token comes from the environment, as a script gives it."""
    admin = add_user(server.database, "admin", "admin")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTDESK_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"), AGENTDESK_TOKEN=admin)
    store = tmp_path / "admin.sqlite3"
    command = [sys.executable, "-m", "agentdesk", "knowledge", "import", str(articles), "--db", str(store),
               "--server", server.url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["3 new, 0 updated, 0 refused",
                                          f"uploaded to {server.url}: 3 new or changed, 0 unchanged, 0 refused"]
    assert fetch(server.database, "SELECT id FROM record WHERE type = 'article' ORDER BY id") == [
        ("billing/double-charge",), ("roadside/mirror",), ("roadside/tyre",)]
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert again.stderr.splitlines()[-1] == f"uploaded to {server.url}: 0 new or changed, 3 unchanged, 0 refused"


async def test_export_carries_the_articles_and_import_brings_them_back(articles: Path, store_path: Path,
                                                                      tmp_path: Path) -> None:
    await import_folder(articles, store_path)
    exported = tmp_path / "export.jsonl"
    with exported.open("wb") as out:
        assert await dump_jsonl(store_path, out) == 3
    lines = exported.read_bytes().splitlines()
    assert [parse_line(line).id for line in lines] == ["billing/double-charge", "roadside/mirror", "roadside/tyre"]
    with exported.open("rb") as source:
        report = await load_jsonl(source, tmp_path / "again.sqlite3")
    assert (report.written, report.errors) == (3, [])
    async with StoreReader.open(tmp_path / "again.sqlite3") as reader:
        assert [a.id for a in await reader.search_articles("tyre")] == ["roadside/tyre"]
