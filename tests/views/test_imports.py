"""The participant import's screens (``views/imports.py``): upload (422 with why for a bad file), the
columns (422 for a wrong choice), the dry run's diff, the commit (once, however often it is sent), the
progress and rows parts htmx polls, Cancel / Resume / Retry, the failed-rows download, the template and
the practice file, roles — and random uploads never answered with a server error. Screens used twice."""

from __future__ import annotations

import dataclasses
import io
import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bookings_app.models import ParticipantImport
from tests.services.conftest import build_world
from tests.services.imports.helpers import ImportWorld, csv_bytes, run_all

pytestmark = pytest.mark.django_db

HOME = "/imports/"


@pytest.fixture
def iw() -> ImportWorld:
    world = build_world(capacity=40)
    yield ImportWorld(world)
    world.wix.close()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def upload(client, data: bytes, name: str = "swim.csv", **extra):
    return client.post(HOME, {"file": SimpleUploadedFile(name, data)}, **extra)


def chosen(html: str) -> dict[str, str]:
    """The mapping form as the page renders it: each column's selected field."""
    out = {}
    for index, select in re.findall(r'<select name="col-(\d+)"[^>]*>(.*?)</select>', html, re.S):
        picked = re.search(r'<option value="([a-z_]*)" selected', select)
        out[f"col-{index}"] = picked.group(1) if picked else ""
    return out


def hidden(html: str, name: str) -> str:
    return unescape(html.split(f'name="{name}" value="', 1)[1].split('"', 1)[0])


def people(iw: ImportWorld, n: int = 3) -> list[dict]:
    found = [iw.w.customer(f"P{i}") for i in range(n)]
    iw.w.mirror(*found)
    return found


def checked_page(client, iw: ImportWorld, rows: list[list[str]], **extra_form) -> tuple[str, str]:
    """Upload, keep the guessed columns, run the dry run: (the import's URL, its page)."""
    url = upload(client, csv_bytes(rows)).url
    form = {**chosen(client.get(url).content.decode()), **extra_form}
    response = client.post(url + "check/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return url, client.get(url).content.decode()


# --- upload ------------------------------------------------------------------------------------------


def test_the_page_offers_the_upload_the_template_and_the_history(admin_client, iw) -> None:
    for _ in range(2):
        html = admin_client.get(HOME).content.decode()
        assert 'enctype="multipart/form-data"' in html and "Participants file (CSV or XLSX)" in html
        assert 'href="/imports/template.csv"' in html and 'href="/imports/practice.csv"' in html
        assert "No imports yet." in html


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (
            b"%PDF-1.7\n%\xe2\xe3",
            "swim.pdf",
            "swim.pdf is a PDF. Upload the participants as a CSV or XLSX spreadsheet.",
        ),
        (b"", "swim.csv", "swim.csv is empty."),
        (b"First name,Email\r\n", "swim.csv", "swim.csv has the column names but no participants under them."),
    ],
)
def test_a_file_that_cant_be_read_is_answered_422_with_why_and_saves_nothing(admin_client, iw, data, name, says):
    for _ in range(2):
        response = upload(admin_client, data, name)
        assert response.status_code == 422
        html = response.content.decode()
        assert f"{name} can't be imported" in html and says in html and 'aria-invalid="true"' in html
    assert not ParticipantImport.objects.exists()


def test_no_file_chosen_is_422(admin_client, iw) -> None:
    response = admin_client.post(HOME, {})
    assert response.status_code == 422 and "Choose the participants&#x27; file" in response.content.decode()


def test_the_columns_page_shows_each_column_with_its_first_values_and_the_guess(admin_client, iw) -> None:
    (amy,) = people(iw, 1)
    url = upload(admin_client, csv_bytes([iw.row(amy, paid="cash")])).url
    for _ in range(2):
        html = admin_client.get(url).content.decode()
        assert chosen(html) == {
            "col-0": "first_name",
            "col-1": "last_name",
            "col-2": "email",
            "col-3": "phone",
            "col-4": "service",
            "col-5": "date",
            "col-6": "time",
            "col-7": "payment",
            "col-8": "amount",
            "col-9": "plan",
            "col-10": "attended",
        }
        assert "Open Water Swim" in html and "Check the 1 row (dry run)" in html


def test_a_column_chosen_twice_is_422_and_checks_nothing(admin_client, iw) -> None:
    (amy,) = people(iw, 1)
    url = upload(admin_client, csv_bytes([iw.row(amy)])).url
    form = {**chosen(admin_client.get(url).content.decode()), "col-3": "email"}
    for _ in range(2):
        response = admin_client.post(url + "check/", form, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-mapping")
        assert response.status_code == 422
        html = response.content.decode()
        assert html.lstrip().startswith('<form id="import-mapping"')
        assert "Column C is Email already: choose one of the two." in html
    assert ParticipantImport.objects.get().status == "UPLOADED"


def test_a_mapping_without_a_session_column_is_422_with_what_is_missing(admin_client, iw) -> None:
    (amy,) = people(iw, 1)
    url = upload(admin_client, csv_bytes([iw.row(amy)])).url
    form = {**chosen(admin_client.get(url).content.decode()), "col-4": "", "col-5": "", "col-6": ""}
    response = admin_client.post(url + "check/", form)
    assert response.status_code == 422
    assert "Choose the column that says which class or course" in response.content.decode()


# --- the dry run and the commit -------------------------------------------------------------------------


def test_the_dry_run_shows_the_diff_and_each_error_with_its_row_and_column(admin_client, iw) -> None:
    amy, bo = people(iw, 2)
    rows = [iw.row(amy, paid="cash", attended="yes"), iw.row(bo, email="bo@", paid="card")]
    url, html = checked_page(admin_client, iw, rows)
    for _ in range(2):
        assert "1 row to import" in html and "nothing has changed yet" in html
        assert re.search(r"<dt>Bookings</dt><dd>1</dd>", html) and re.search(r"<dt>Errors</dt><dd>1</dd>", html)
        assert "Column C “Email”: “bo@” is not an email address." in html
        assert "Import 1 row" in html
        html = admin_client.get(url).content.decode()


def test_the_commit_sent_twice_imports_once_and_the_page_follows_the_worker(admin_client, iw) -> None:
    amy, bo = people(iw, 2)
    url, html = checked_page(admin_client, iw, [iw.row(amy, paid="cash"), iw.row(bo, paid="unpaid")])
    form = {"idempotency_key": hidden(html, "idempotency_key"), "plan_digest": hidden(html, "plan_digest")}

    for _ in range(2):
        response = admin_client.post(url + "commit/", form)
        assert response.status_code == 302 and response.url == url
    imported = ParticipantImport.objects.get()
    assert imported.status == "RUNNING"

    progress = admin_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-progress").content.decode()
    assert progress.lstrip().startswith('<section id="import-progress"') and 'hx-trigger="every 1s"' in progress
    assert "0 of 2 rows finished" in progress and "<dt>Not started</dt><dd>2</dd>" in progress
    run_all(iw.w, imported)
    for _ in range(2):
        response = admin_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-progress")
        progress = response.content.decode()
        assert "2 of 2 rows finished" in progress and "every 1s" not in progress  # done: no more polling
        assert "All 2 rows imported." in progress
        assert "importRowsChanged" in response["HX-Trigger"]  # the rows below read themselves once more


def test_a_stale_commit_form_is_refused_409_and_imports_nothing(admin_client, iw) -> None:
    (amy,) = people(iw, 1)
    url, html = checked_page(admin_client, iw, [iw.row(amy, paid="cash")])
    form = {"idempotency_key": hidden(html, "idempotency_key"), "plan_digest": "an-older-dry-run"}
    for _ in range(2):
        response = admin_client.post(url + "commit/", form)
        assert response.status_code == 409
        assert "The rows were checked again since this page was shown" in response.content.decode()
    assert ParticipantImport.objects.get().status == "CHECKED"


def test_the_rows_part_pages_and_tabs(admin_client, iw) -> None:
    found = people(iw, 3)
    rows = [iw.row(p, paid="cash") for p in found] + [iw.row(first="X", last="Y", email="bad") for _ in range(60)]
    rows = [[*r[:1], f"{r[1]}{i}", *r[2:]] for i, r in enumerate(rows)]  # no row repeats another
    url, _ = checked_page(admin_client, iw, rows)
    for _ in range(2):
        part = admin_client.get(url + "?rows=errors&page=2", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-rows")
        html = part.content.decode()
        assert html.lstrip().startswith('<section id="import-rows"')
        assert "Rows 51–60 of 60" in html and "‹ Previous" in html and "Next ›" not in html
        assert 'aria-current="true">Errors <span class="badge">60</span>' in html
    planned = admin_client.get(url + "?rows=planned", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-rows")
    assert planned.content.decode().count("Cash £12.00") == 3
    assert admin_client.get(url + "?rows=nonsense&page=x").status_code == 200


def test_cancel_resume_and_retry_refuse_what_does_not_apply_with_409(admin_client, iw) -> None:
    (amy,) = people(iw, 1)
    url, html = checked_page(admin_client, iw, [iw.row(amy, paid="cash")])
    for path, says in (("cancel/", "isn't running"), ("resume/", "is not stopped"), ("retry/", "waiting for a retry")):
        response = admin_client.post(url + path, HTTP_HX_REQUEST="true")
        assert response.status_code == 409 and says in unescape(response.content.decode())
    admin_client.post(
        url + "commit/",
        {"idempotency_key": hidden(html, "idempotency_key"), "plan_digest": hidden(html, "plan_digest")},
    )
    for _ in range(2):
        response = admin_client.post(url + "cancel/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409  # the second click: it is stopping already
    assert ParticipantImport.objects.get().status == "CANCELLING"
    response = admin_client.post(url + "resume/")
    assert response.status_code == 302 and ParticipantImport.objects.get().status == "RUNNING"


def test_the_failed_rows_download_as_csv_and_xlsx(admin_client, iw) -> None:
    (amy,) = people(iw, 1)
    url, _ = checked_page(admin_client, iw, [iw.row(amy, paid="cash"), iw.row(amy, email="amy@", attended="maybe")])
    for _ in range(2):
        response = admin_client.get(url + "failed/?format=csv")
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert response["Content-Disposition"] == 'attachment; filename="swim-failed-rows.csv"'
        lines = body.splitlines()
        assert lines[0].endswith(",Attended,Error") and len(lines) == 2 and "“amy@” is not an email address" in lines[1]
    xlsx = admin_client.get(url + "failed/?format=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert [c.value for c in sheet[1]][-1] == "Error" and sheet.max_row == 2
    assert admin_client.get(url + "failed/?format=pdf").status_code == 400


def test_the_template_and_the_practice_file(admin_client, iw, settings) -> None:
    iw.w.mirror()
    template = admin_client.get("/imports/template.csv")
    assert template.content.decode("utf-8-sig").splitlines()[0] == (
        "First name,Surname,Email,Phone,Class,Date,Time,Paid,Amount,Plan,Attended"
    )
    assert "Open Water Swim" in template.content.decode("utf-8-sig")
    assert admin_client.get("/imports/practice.csv").status_code == 200
    settings.WIX = dataclasses.replace(settings.WIX, mode="api_key", api_key="k", site_id="s")
    assert admin_client.get("/imports/practice.csv").status_code == 404


def test_the_history_lists_past_imports(admin_client, iw) -> None:
    (amy,) = people(iw, 1)
    checked_page(admin_client, iw, [iw.row(amy, paid="cash")])
    html = admin_client.get(HOME).content.decode()
    assert "swim.csv" in html and "1 to import · 0 with errors" in html and "admin-user" in html


def test_managers_and_the_desk_may_not_import(client, manager_user, desk_user, iw) -> None:
    for user in (manager_user, desk_user):
        client.force_login(user)
        assert client.get(HOME).status_code == 403
        assert upload(client, csv_bytes([["a"]])).status_code == 403
    assert not ParticipantImport.objects.exists()


@hsettings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=2000),
    name=st.sampled_from(["p.csv", "p.xlsx", "p"]),
    choices=st.lists(
        st.sampled_from(["", "name", "email", "service", "date", "amount", "nonsense", "\x00"]), max_size=6
    ),
)
def test_random_uploads_and_column_choices_are_never_a_server_error(admin_client, iw, data, name, choices) -> None:
    response = upload(admin_client, data, name)
    assert response.status_code in (302, 422)
    if response.status_code == 302:
        form = {f"col-{i}": c for i, c in enumerate(choices)}
        refused = (400,) if "\x00" in choices else (302, 422)  # a NUL is refused before the view (middleware)
        assert admin_client.post(response.url + "check/", form).status_code in refused
        assert admin_client.get(response.url).status_code == 200
