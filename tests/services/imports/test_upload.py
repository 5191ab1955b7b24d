"""Reading a participants' file (``services/imports/upload.py`` over ``sheet.py``): encodings, byte-order
marks, separators, XLSX, the spreadsheet's own row numbers, the header found under a title, the columns
recognised and remembered — and every file that can't be read refused in plain words, saving nothing."""

from __future__ import annotations

import codecs
import io
import zipfile
from datetime import date, datetime, time

import pytest

from bookings_app.models import ImportMapping, ImportRow, ParticipantImport
from bookings_app.services.imports import dry_run, upload
from bookings_app.services.imports.sheet import CFB_MAGIC, ENCRYPTED_PACKAGE, ImportRefused
from tests.services.imports.helpers import HEADERS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ROW = [
    "Zoë",
    "Müller",
    "zoe@example.com",
    "07700 900123",
    "Open Water Swim",
    "02/03/2027",
    "07:00",
    "cash",
    "12",
    "",
    "yes",
]
ALL_FIELDS = {
    "first_name": 0,
    "last_name": 1,
    "email": 2,
    "phone": 3,
    "service": 4,
    "date": 5,
    "time": 6,
    "payment": 7,
    "amount": 8,
    "plan": 9,
    "attended": 10,
}


def read(data: bytes, name: str = "sheet.csv") -> ParticipantImport:
    return upload.import_upload(user=None, name=name, data=data)


def refused(data: bytes, name: str = "sheet.csv") -> str:
    with pytest.raises(ImportRefused) as excinfo:
        read(data, name)
    assert not ParticipantImport.objects.exists() and not ImportRow.objects.exists()
    return " | ".join(str(p) for p in excinfo.value.problems)


def values(imported: ParticipantImport) -> list[list[str]]:
    return [r.values for r in imported.rows.order_by("number")]


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (codecs.BOM_UTF8 + csv_bytes([ROW]), "UTF-8 with a byte-order mark"),
        (csv_bytes([ROW]), "UTF-8"),
        (csv_bytes([ROW], encoding="cp1252"), "Windows-1252"),
        (csv_bytes([ROW], encoding="latin-1"), "Latin-1"),
        (codecs.BOM_UTF16_LE + csv_bytes([ROW], delimiter="\t").decode().encode("utf-16-le"), "UTF-16 (Unicode text)"),
        (csv_bytes([ROW], delimiter=";"), "semicolons"),
        (csv_bytes([ROW], delimiter="\t"), "tabs"),
        (csv_bytes([ROW], delimiter=";", encoding="cp1252"), "Excel in much of Europe"),
    ],
)
def test_csv_in_every_encoding_and_separator_reads_the_same_cells(data: bytes, what: str) -> None:
    imported = read(data)

    assert imported.headers == HEADERS, what  # the byte-order mark is not part of the first header
    assert values(imported) == [ROW], what
    assert imported.mapping == ALL_FIELDS and imported.file_kind == "CSV"


def test_xlsx_dates_times_and_numbers_read_as_a_person_would_type_them() -> None:
    rows = [
        [
            "Ann",
            "Lee",
            "ann@example.com",
            7700900123,
            "Open Water Swim",
            date(2027, 3, 2),
            time(7, 0),
            "card",
            12.0,
            None,
            True,
        ],
        [
            "Bo",
            "Ray",
            "bo@example.com",
            None,
            "Open Water Swim",
            datetime(2027, 3, 2, 7, 0),
            None,
            "cash",
            12.5,
            None,
            "no",
        ],
    ]

    imported = read(xlsx_bytes(rows), "sheet.xlsx")

    assert imported.file_kind == "XLSX"
    first, second = values(imported)
    assert first == [
        "Ann",
        "Lee",
        "ann@example.com",
        "7700900123",
        "Open Water Swim",
        "2027-03-02",
        "07:00",
        "card",
        "12",
        "",
        "TRUE",
    ]
    assert second[5] == "2027-03-02 07:00" and second[8] == "12.5"


def test_blank_rows_are_skipped_and_the_row_numbers_stay_the_spreadsheets() -> None:
    text = csv_bytes([ROW]).decode() + "\r\n,,,,\r\n\r\n" + ",".join(ROW) + "\r\n"

    imported = read(text.encode())

    assert [r.number for r in imported.rows.order_by("number")] == [2, 6]
    assert imported.rows_total == 2


def test_a_title_above_the_column_names_is_skipped_and_said_so() -> None:
    text = "Sign-in sheet,,,\r\nSaturday swim,,,\r\n" + csv_bytes([ROW]).decode()

    imported = read(text.encode())

    assert imported.header_row == 3 and imported.headers == HEADERS
    assert [r.number for r in imported.rows.all()] == [4]
    assert "Rows 1, 2 above the column names were not read." in imported.notes


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Name", "E-mail", "Mobile", "Activity", "Day", "Start", "Paid by", "£", "Pass", "Present"],
            {
                "name": 0,
                "email": 1,
                "phone": 2,
                "service": 3,
                "date": 4,
                "time": 5,
                "payment": 6,
                "plan": 8,
                "attended": 9,
            },
        ),
        (
            [
                "FIRST NAME",
                "surname",
                "Email Address",
                "Telephone",
                "class",
                "DATE",
                "time",
                "Payment method",
                "Amount paid",
                "Membership",
                "Checked in",
            ],
            ALL_FIELDS,
        ),
        (
            [
                "Forename",
                "Family name",
                "Mail",
                "Cell",
                "Session",
                "Session date",
                "Class time",
                "How paid",
                "Fee",
                "Plan name",
                "Came",
            ],
            ALL_FIELDS,
        ),
    ],
)
def test_common_spellings_of_the_column_names_are_recognised(headers: list[str], expected: dict[str, int]) -> None:
    imported = read(csv_bytes([ROW[: len(headers)]], headers=headers))
    assert imported.mapping == expected


def test_the_columns_chosen_for_a_file_are_offered_again_for_the_next_with_the_same_headers() -> None:
    headers = ["Who", "Contact", "What", "When", "At", "Money"]
    row = ["Ann Lee", "ann@example.com", "Open Water Swim", "02/03/2027", "07:00", "cash"]
    first = read(csv_bytes([row], headers=headers))
    assert first.mapping == {"date": 3}  # only "When" is a spelling we know
    chosen = {"name": 0, "email": 1, "service": 2, "date": 3, "time": 4, "payment": 5}
    dry_run.import_check(user=None, imported=first, mapping=chosen, allow_new_contacts=False)

    again = read(csv_bytes([row], headers=[h.upper() for h in headers]))  # the same names in other capitals

    assert again.mapping == chosen
    assert "The columns are chosen as for your last file with these column names." in again.notes
    assert ImportMapping.objects.count() == 1


def test_a_failed_rows_download_coming_back_keeps_its_mapping_despite_the_error_column() -> None:
    headers = ["Who", "Contact", "What", "When", "At", "Money"]
    row = ["Ann Lee", "ann@example.com", "Open Water Swim", "02/03/2027", "07:00", "cash"]
    first = read(csv_bytes([row], headers=headers))
    chosen = {"name": 0, "email": 1, "service": 2, "date": 3, "time": 4, "payment": 5}
    dry_run.import_check(user=None, imported=first, mapping=chosen, allow_new_contacts=False)

    fixed = read(csv_bytes([[*row, "Row 2: …"]], headers=[*headers, "Error"]))

    assert fixed.mapping == chosen


def test_a_very_long_cell_is_kept_up_to_the_cap_for_the_row_check_to_refuse() -> None:
    imported = read(csv_bytes([["A" * 50_000, *ROW[1:]]]))
    assert len(imported.rows.get().values[0]) == upload.MAX_CELL


def test_the_biggest_file_allowed_is_read_and_one_row_more_is_refused() -> None:
    many = csv_bytes([ROW] * upload.MAX_ROWS)
    assert read(many).rows_total == upload.MAX_ROWS
    ParticipantImport.objects.all().delete()

    message = refused(csv_bytes([ROW] * (upload.MAX_ROWS + 1)))
    assert f"has more than {upload.MAX_ROWS:,} participant rows" in message and "split the file" in message


# --- refused, nothing saved ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", codecs.BOM_UTF8, b" \r\n\r\n", b",,,\r\n,,,\r\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert "sheet.csv is empty" in refused(data)


def test_column_names_with_no_rows_under_them_are_refused() -> None:
    assert "has the column names but no participants under them" in refused(csv_bytes([]))


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    message = refused(b"x" * (upload.MAX_FILE_BYTES + 1))
    assert "a participants file can be at most 10 MB" in message


def test_a_password_protected_xlsx_is_refused_with_how_to_remove_the_password() -> None:
    data = CFB_MAGIC + b"\x00" * 504 + ENCRYPTED_PACKAGE + b"\x00" * 600
    assert refused(data, "people.xlsx").startswith("people.xlsx is protected with a password")


def test_other_kinds_of_file_are_named_for_what_they_are() -> None:
    assert "is an old Excel file (.xls)" in refused(CFB_MAGIC + b"\x00" * 2000, "people.xls")
    assert "people.pdf is a PDF. Upload the participants as a CSV or XLSX" in refused(b"%PDF-1.7\n%\xe2", "people.pdf")
    assert "is not a CSV or XLSX spreadsheet" in refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "p.png")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert "is an OpenDocument spreadsheet (.ods)" in refused(out.getvalue(), "p.ods")


def test_a_damaged_xlsx_is_refused() -> None:
    assert "is damaged" in refused(xlsx_bytes([ROW])[:300], "people.xlsx")
