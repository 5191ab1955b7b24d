"""Reading a timetable file (``services/courses/import_file.py``): encodings, separators, header
spellings, XLSX cells, the admin's own row numbers, and every kind of file refused in plain words."""

from __future__ import annotations

import codecs
import io
import zipfile
from datetime import date, datetime, time

import pytest

from bookings_app.services.courses import MAX_ROWS, ImportRefused, Sheet, sheet_read
from bookings_app.services.courses.import_file import CFB_MAGIC, ENCRYPTED_PACKAGE, MAX_FILE_BYTES, template_csv
from tests.services.courses.import_helpers import HEADERS, csv_bytes, xlsx_bytes

ROW = ["Learn to Swim", "02/03/2027", "17:00", "17:45", "Lena Fischer", "Lakeside Centre", "12"]


def refused(data: bytes, name: str = "term.csv") -> str:
    with pytest.raises(ImportRefused) as excinfo:
        sheet_read(name=name, data=data)
    return " | ".join(str(p) for p in excinfo.value.problems)


def test_a_utf8_csv_with_a_byte_order_mark_is_read_with_the_spreadsheets_row_numbers() -> None:
    data = codecs.BOM_UTF8 + csv_bytes([ROW, ROW[:2] + ["18:00", "18:45"] + ROW[4:]])

    sheet = sheet_read(name="term.csv", data=data)

    assert sheet.kind == "CSV" and sheet.name == "term.csv"
    assert set(sheet.columns) == {"service", "date", "start", "end", "instructor", "location", "capacity"}
    assert sheet.columns["service"].header == "Course"  # the mark is not part of the first header
    assert [r.number for r in sheet.rows] == [2, 3]
    assert sheet.rows[0].cells == dict(zip(sheet.columns, ROW, strict=True))
    assert sheet.rows[1].cells["start"] == "18:00"


def test_windows_1252_with_semicolons_keeps_its_accents() -> None:
    row = ["Natation débutants", "02/03/2027", "17:00", "17:45", "Zoë Müller", "Salle €", ""]
    data = csv_bytes([row], delimiter=";", encoding="cp1252")

    sheet = sheet_read(name="horaires.csv", data=data)

    assert sheet.rows[0].cells["service"] == "Natation débutants"
    assert sheet.rows[0].cells["instructor"] == "Zoë Müller"
    assert sheet.rows[0].cells["location"] == "Salle €"


def test_tab_separated_utf16_as_excel_saves_unicode_text() -> None:
    data = codecs.BOM_UTF16_LE + csv_bytes([ROW], delimiter="\t").decode().encode("utf-16-le")

    sheet = sheet_read(name="term.txt", data=data)

    assert sheet.rows[0].cells["instructor"] == "Lena Fischer"


def test_a_comma_inside_quotes_does_not_split_the_cell_with_semicolons_around() -> None:
    data = b'Course;Date;Start;End;Teacher\r\n"Swim, beginners";2027-03-02;17:00;17:45;Lena\r\n'
    sheet = sheet_read(name="t.csv", data=data)
    assert sheet.rows[0].cells["service"] == "Swim, beginners"


@pytest.mark.parametrize(
    "headers",
    [
        ["COURSE", "date", "Start time", "Finish", "Teacher", "Venue", "Places"],
        ["Service", "Date", "start", "END TIME", "instructor", "location", "capacity"],
        ["Course name", "Session date", "Starts", "Ends", "Coach", "Place", "Spaces"],
        [" Course: ", "Date*", "Start_time", "Finish-time", "Instructor ", "Location", "Capacity"],
    ],
)
def test_common_header_spellings_are_recognised_in_any_case(headers: list[str]) -> None:
    sheet = sheet_read(name="t.csv", data=csv_bytes([ROW], headers=headers))
    assert [sheet.columns[f].header for f in ("service", "date", "start", "end", "instructor")] == [
        h.strip() for h in headers[:5]
    ]
    assert sheet.rows[0].cells["end"] == "17:45"


def test_location_and_capacity_may_be_left_out_and_other_columns_are_ignored_and_named() -> None:
    headers = ["Notes", "Course", "Date", "Start", "End", "Instructor"]
    rows = [["bring goggles", *ROW[:5]], ["a note on its own", "", "", "", "", ""]]

    sheet = sheet_read(name="t.csv", data=csv_bytes(rows, headers=headers))

    assert set(sheet.columns) == {"service", "date", "start", "end", "instructor"}
    assert sheet.ignored == ["Notes"]
    assert [r.number for r in sheet.rows] == [2]  # a row with only a note is not a session
    assert sheet.rows[0].cells.get("location", "") == ""


def test_empty_lines_and_a_title_above_the_header_keep_the_row_numbers_the_admin_sees() -> None:
    text = "\r\n,,,,\r\n" + csv_bytes([ROW]).decode() + "\r\n\r\n" + ",".join(ROW) + "\r\n"

    sheet = sheet_read(name="t.csv", data=text.encode())

    assert [r.number for r in sheet.rows] == [4, 7]


def test_xlsx_date_and_time_cells_read_as_iso_dates_and_clock_times() -> None:
    rows = [
        ["Learn to Swim", date(2027, 3, 2), time(17, 0), time(17, 45), "Lena Fischer", None, 12],
        ["Learn to Swim", datetime(2027, 3, 4), datetime(1899, 12, 30, 9, 30), "10:15", "Lena Fischer", None, 12.0],
    ]
    sheet = sheet_read(name="term.xlsx", data=xlsx_bytes(rows))

    assert sheet.kind == "XLSX"
    assert [r.number for r in sheet.rows] == [2, 3]
    assert sheet.rows[0].cells == {
        "service": "Learn to Swim",
        "date": "2027-03-02",
        "start": "17:00",
        "end": "17:45",
        "instructor": "Lena Fischer",
        "location": "",
        "capacity": "12",
    }
    assert sheet.rows[1].cells["date"] == "2027-03-04" and sheet.rows[1].cells["start"] == "09:30"


def test_only_the_first_worksheet_is_read_and_the_preview_says_so() -> None:
    from openpyxl import Workbook, load_workbook

    book = load_workbook(io.BytesIO(xlsx_bytes([ROW], title="Spring")))
    book.create_sheet("Summer").append(HEADERS)
    out = io.BytesIO()
    book.save(out)
    assert isinstance(book, Workbook)

    sheet = sheet_read(name="year.xlsx", data=out.getvalue())

    assert len(sheet.rows) == 1
    assert sheet.notes == ["Only the first sheet, “Spring”, was read (not “Summer”)."]


def test_the_sheet_survives_the_round_trip_through_the_preview() -> None:
    sheet = sheet_read(name="t.csv", data=csv_bytes([ROW, ROW]))
    again = Sheet.from_json(sheet.as_json())
    assert again == sheet


# --- refused ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"  \r\n\r\n", b",,,\r\n,,,\r\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert "term.csv is empty" in refused(data)


def test_a_header_without_sessions_is_refused() -> None:
    assert "has the column names but no sessions under them" in refused(csv_bytes([]))


def test_a_first_row_that_names_no_column_is_refused_with_the_expected_columns() -> None:
    message = refused(b"Swim,Tuesday,5pm\r\nSwim,Thursday,5pm\r\n")
    assert message.startswith("Row 1: the first row should name the columns — Course, Date, Start, End, Instructor")
    assert "“Swim”, “Tuesday”, “5pm”" in message and "Download the template" in message


def test_missing_required_columns_are_named() -> None:
    message = refused(csv_bytes([ROW[:3]], headers=["Course", "Date", "Start"]))
    assert "no column for the end time (“End” or “Finish”), the instructor (“Instructor” or “Teacher”)" in message


def test_two_columns_for_the_same_thing_are_refused() -> None:
    message = refused(csv_bytes([ROW + ["Bob"]], headers=[*HEADERS, "Teacher"]))
    assert "columns E “Instructor” and H “Teacher” both look like the instructor" in message


def test_more_than_2000_sessions_is_refused_with_the_cap() -> None:
    message = refused(csv_bytes([ROW] * (MAX_ROWS + 1)))
    assert f"more than {MAX_ROWS:,} sessions" in message and "split the timetable into terms" in message
    assert sheet_read(name="t.csv", data=csv_bytes([ROW] * MAX_ROWS)).rows[-1].number == MAX_ROWS + 1


def test_an_xlsx_of_more_than_2000_sessions_is_refused_too() -> None:
    assert f"more than {MAX_ROWS:,} sessions" in refused(xlsx_bytes([ROW] * (MAX_ROWS + 1)), "big.xlsx")


def test_a_file_over_the_size_limit_is_refused_unread() -> None:
    assert "a timetable file can be at most 5 MB" in refused(b"x" * (MAX_FILE_BYTES + 1))


def test_a_password_protected_xlsx_is_refused_with_how_to_remove_the_password() -> None:
    # An encrypted OOXML file is an OLE compound file holding an "EncryptedPackage" stream.
    data = CFB_MAGIC + b"\x00" * 504 + ENCRYPTED_PACKAGE + b"\x00" * 600
    message = refused(data, "term.xlsx")
    assert message.startswith("term.xlsx is protected with a password, so it can't be read.")
    assert "remove the password" in message


def test_an_old_xls_file_is_refused_with_save_as_xlsx() -> None:
    assert "is an old Excel file (.xls)" in refused(CFB_MAGIC + b"\x00" * 2000, "term.xls")


def test_a_pdf_an_image_and_random_bytes_are_not_spreadsheets() -> None:
    assert "term.pdf is a PDF" in refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "term.pdf")
    assert "is not a CSV or XLSX spreadsheet" in refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "t.png")
    assert "not a text file we can read" in refused(b"Course,Date\r\n\x81\x8d\x8f\x90\x9d\xff", "t.csv")


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_other_zip_files_are_named_for_what_they_are() -> None:
    ods = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
    assert "is an OpenDocument spreadsheet (.ods)" in refused(ods, "t.ods")
    assert "is a Numbers file" in refused(_zip({"Index/Document.iwa": b"x"}), "t.numbers")
    assert "is a Word document" in refused(_zip({"word/document.xml": b"<x/>"}), "t.docx")
    assert "is a zip file, not an Excel workbook" in refused(_zip({"a.txt": b"x"}), "t.zip")


def test_a_damaged_xlsx_is_refused() -> None:
    good = xlsx_bytes([ROW])
    assert "is damaged" in refused(good[:200], "t.xlsx")
    broken = _zip({"xl/workbook.xml": b"<not a workbook", "[Content_Types].xml": b"<x/>"})
    assert "can't be read as an Excel workbook" in refused(broken, "t.xlsx")


# --- the template ----------------------------------------------------------------------------------


def test_the_template_is_utf8_with_a_mark_and_reads_back_as_a_timetable() -> None:
    data = template_csv(examples=[ROW])
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig").splitlines()[0] == ",".join(HEADERS)
    sheet = sheet_read(name="template.csv", data=data)
    assert sheet.rows[0].cells["service"] == "Learn to Swim" and not sheet.ignored
