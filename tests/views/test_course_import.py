"""The timetable import's screens (``views/course_import.py``): upload and preview, commit, the
import's page with its progress and Retry, the template, bad files (422, never a 500), roles —
each used twice in a row."""

from __future__ import annotations

from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bookings_app.models import CourseBuild, CourseImport, DeskAction
from tests.services.conftest import build_world
from tests.services.courses.helpers import CourseWorld, action_of, build_course_world
from tests.services.courses.import_helpers import HEADERS, csv_bytes, swim_rows, xlsx_bytes
from tests.services.push.conftest import push_now, recorder

pytestmark = pytest.mark.django_db

PAGE = "/courses/import/"
COMMIT = "/courses/import/commit/"
TEMPLATE = "/courses/import/template.csv"


@pytest.fixture
def cw() -> CourseWorld:
    world = build_world()
    yield build_course_world(world)
    world.wix.close()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def upload(client, data: bytes, name: str = "spring.csv", **extra):
    return client.post(PAGE, {"file": SimpleUploadedFile(name, data)}, **extra)


def commit_data(response) -> dict[str, str]:
    """The commit form as the preview rendered it."""
    html = response.content.decode()

    def field(name: str) -> str:
        return unescape(html.split(f'name="{name}" value="', 1)[1].split('"', 1)[0])

    return {"idempotency_key": field("idempotency_key"), "plan_digest": field("plan_digest"), "sheet": field("sheet")}


# --- upload and preview ------------------------------------------------------------------------------


def test_the_page_offers_the_upload_and_the_template(admin_client, cw) -> None:
    html = admin_client.get(PAGE).content.decode()
    assert 'enctype="multipart/form-data"' in html and 'hx-encoding="multipart/form-data"' in html
    assert 'name="file"' in html and f'href="{TEMPLATE}"' in html
    assert "Import a timetable (CSV/XLSX)" in admin_client.get("/courses/").content.decode()


def test_a_file_is_previewed_with_every_session_and_the_wix_calls_and_nothing_is_saved(admin_client, cw) -> None:
    calls = cw.world.calls()
    for _ in range(2):  # the same twice
        response = upload(admin_client, csv_bytes(swim_rows(cw)))
        assert response.status_code == 200
        html = unescape(response.content.decode())
        assert "5 new sessions of 1 course" in html
        assert html.count('<span class="badge is-ok">New</span>') == 5
        assert "1 × Bulk Create Event" in html and "5 single sessions for 1 course" in html
        assert "POST /calendar/v3/bulk/events/create — Learn to Swim" in html
        assert '"permissionRole": "WRITER"' in html
        assert "Create 5 sessions in Wix" in html
    assert cw.world.calls() == calls
    assert not CourseImport.objects.exists() and not CourseBuild.objects.exists() and not DeskAction.objects.exists()


def test_an_xlsx_is_previewed_like_a_csv(admin_client, cw) -> None:
    response = upload(admin_client, xlsx_bytes(swim_rows(cw)), "spring.xlsx")
    assert response.status_code == 200
    assert "5 new sessions of 1 course" in response.content.decode()


def test_htmx_gets_the_import_part_only(admin_client, cw) -> None:
    response = upload(admin_client, csv_bytes(swim_rows(cw)), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="course-import">') and "<header" not in html


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"", "empty.csv", "empty.csv is empty"),
        (b"%PDF-1.4 binary", "term.pdf", "term.pdf is a PDF"),
        (
            csv_bytes([["Yoga", "02/03/2027", "17:00", "17:45", "Lena Fischer", "", ""]]),
            "t.csv",
            "The courses are: Learn to Swim.",
        ),
        (csv_bytes([["Swim"]], headers=["Course"]), "t.csv", "no column for the date"),
    ],
)
def test_a_file_that_cant_be_imported_is_a_422_with_the_messages_and_saves_nothing(
    admin_client, cw, data: bytes, name: str, says: str
) -> None:
    for _ in range(2):
        response = upload(admin_client, data, name)
        assert response.status_code == 422
        html = unescape(response.content.decode())
        assert "Nothing was saved or sent" in html and says in html
        assert 'id="import-problems"' in html and "Create " not in html
    assert not CourseImport.objects.exists() and not DeskAction.objects.exists()


def test_row_errors_name_the_row_and_column(admin_client, cw) -> None:
    rows = swim_rows(cw)
    rows[1][3] = "09:00"
    response = upload(admin_client, csv_bytes(rows))
    assert response.status_code == 422
    assert "Row 3, column D “End”: the session ends (09:00) before it starts (10:00)." in unescape(
        response.content.decode()
    )


def test_no_file_is_a_422(admin_client, cw) -> None:
    response = admin_client.post(PAGE, {})
    assert response.status_code == 422
    assert "Choose the timetable file (CSV or XLSX) first." in unescape(response.content.decode())


# --- commit, the import's page, Retry ------------------------------------------------------------------


def test_commit_saves_then_the_worker_sends_and_the_page_follows_and_the_same_file_again_is_nothing_new(
    admin_client, cw
) -> None:
    data = csv_bytes(swim_rows(cw))
    form = commit_data(upload(admin_client, data))

    response = admin_client.post(COMMIT, form)
    again = admin_client.post(COMMIT, form)  # a double click

    imported = CourseImport.objects.get()
    assert response.status_code == again.status_code == 302
    assert response.url == again.url == f"/courses/imports/{imported.pk}/"
    assert CourseBuild.objects.count() == 1
    page = admin_client.get(response.url)
    html = unescape(page.content.decode())
    assert "0 of 5 sessions in Wix" in html and 'hx-trigger="every 1s"' in html and "Sending to Wix" in html

    push_now(cw.world.wix)

    part = admin_client.get(response.url, HTTP_HX_REQUEST="true")
    html = unescape(part.content.decode())
    assert html.lstrip().startswith('<section id="course-import-status"')
    assert "5 of 5 sessions in Wix" in html and "All 5 new sessions are in Wix." in html
    assert "every 1s" not in html
    assert len(cw.starts_in_wix()) == 5

    # The same file again: every session already exists, nothing to create.
    preview = upload(admin_client, data)
    html = unescape(preview.content.decode())
    assert preview.status_code == 200
    assert (
        "Nothing new: every session already exists" in html
        and html.count('<span class="badge">Already in Wix</span>') == 5
    )
    assert "This very file was imported on" in html and "Create " not in html


def test_htmx_commit_redirects_the_page(admin_client, cw) -> None:
    form = commit_data(upload(admin_client, csv_bytes(swim_rows(cw))))
    response = admin_client.post(COMMIT, form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/courses/imports/")


def test_a_changed_or_forged_sheet_is_refused_and_nothing_saved(admin_client, cw) -> None:
    form = commit_data(upload(admin_client, csv_bytes(swim_rows(cw))))
    for sheet in (form["sheet"][:-4] + "abcd", "", "not-signed"):
        response = admin_client.post(COMMIT, {**form, "sheet": sheet})
        assert response.status_code == 422
        assert "This preview has expired or was changed: upload the file again." in response.content.decode()
    assert not CourseImport.objects.exists()


def test_a_stale_preview_is_a_409_with_the_new_preview(admin_client, cw) -> None:
    data = csv_bytes(swim_rows(cw, weeks=4))
    stale = commit_data(upload(admin_client, data))
    admin_client.post(COMMIT, commit_data(upload(admin_client, csv_bytes(swim_rows(cw, weeks=2)))))

    response = admin_client.post(COMMIT, stale)

    assert response.status_code == 409
    html = unescape(response.content.decode())
    assert "The sessions to create differ from the preview you saw" in html
    assert "3 new sessions of 1 course" in html  # the new preview: what is left
    assert CourseImport.objects.count() == 1


def test_an_expired_form_key_is_a_422(admin_client, cw) -> None:
    form = commit_data(upload(admin_client, csv_bytes(swim_rows(cw))))
    response = admin_client.post(COMMIT, {**form, "idempotency_key": "x"})
    assert response.status_code == 422 and "This form has expired" in response.content.decode()
    assert not CourseImport.objects.exists()


def test_a_refused_course_needs_attention_and_retry_sends_only_its_sessions(admin_client, cw) -> None:
    admin_client.post(COMMIT, commit_data(upload(admin_client, csv_bytes(swim_rows(cw)))))
    imported = CourseImport.objects.get()
    build = imported.builds.get()
    refused = build.events.order_by("position").first()
    refused.payload = {**refused.payload, "resources": [{"id": "gone-resource", "permissionRole": "WRITER"}]}
    refused.save()
    client, transport = recorder(cw.world)
    push_now(client)

    html = unescape(admin_client.get(f"/courses/imports/{imported.pk}/").content.decode())
    assert "Needs attention" in html and "4 of 5 sessions in Wix" in html and "Retry the 1 missing session" in html

    cw.sb.state.put("resources", {"id": "gone-resource", "name": "Lena Fischer", "revision": "1"})
    response = admin_client.post(f"/courses/imports/{imported.pk}/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Sending to Wix" in response.content.decode()
    push_now(client)
    assert action_of(build).status == DeskAction.Status.SYNCED and len(cw.starts_in_wix()) == 5

    again = admin_client.post(f"/courses/imports/{imported.pk}/retry/", HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    assert "Nothing of this timetable is waiting for a retry." in again.content.decode()
    assert admin_client.post(f"/courses/imports/{imported.pk}/retry/").status_code == 302


def test_an_unknown_import_is_404(admin_client, cw) -> None:
    assert admin_client.get("/courses/imports/999999/").status_code == 404
    assert admin_client.get(f"/courses/imports/{2**63}/").status_code == 404


# --- the template ----------------------------------------------------------------------------------


def test_the_template_downloads_with_this_businesss_names_and_imports_as_is(admin_client, cw) -> None:
    response = admin_client.get(TEMPLATE)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="course-sessions-template.csv"'
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(HEADERS)
    assert "Learn to Swim" in text and "Lena Fischer" in text

    preview = upload(admin_client, response.content, "course-sessions-template.csv")
    assert preview.status_code == 200 and "2 new sessions of 1 course" in unescape(preview.content.decode())


# --- roles ------------------------------------------------------------------------------------------


def test_a_manager_may_preview_and_look_but_not_create(manager_client, cw) -> None:
    response = upload(manager_client, csv_bytes(swim_rows(cw)))
    assert response.status_code == 200
    assert "Only an admin can create these sessions in Wix." in unescape(response.content.decode())
    assert manager_client.get(TEMPLATE).status_code == 200
    assert manager_client.post(COMMIT, {}).status_code == 403


@pytest.mark.parametrize("url", [PAGE, TEMPLATE])
def test_the_front_desk_may_not_import(desk_client, url) -> None:
    assert desk_client.get(url).status_code == 403


# --- never a 500 ----------------------------------------------------------------------------------


@hsettings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.lists(st.lists(st.text(max_size=12), max_size=8), max_size=6).map(
            lambda rows: csv_bytes(rows, headers=["Course", "Date", "Start", "End", "Teacher"])
        ),
    ),
    name=st.sampled_from(["t.csv", "t.xlsx", "", "t.exe"]),
)
def test_random_malformed_files_never_cause_a_500(admin_client, cw, data: bytes, name: str) -> None:
    response = admin_client.post(PAGE, {"file": SimpleUploadedFile(name or "x", data)} if name else {})
    assert response.status_code in (200, 422)
    assert not CourseImport.objects.exists()
