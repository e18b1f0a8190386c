"""Reading untidy exports: encodings, title rows, footers, blank lines, row numbers, xlsx."""

import codecs
import datetime as dt
import zipfile

import openpyxl
import pytest

from lib.reader import UnusableFile, read_table, sheet_names

CSV = "客服昵称,日期,接待人数\n小美,2026-05-01,12\n阿杰,2026-05-01,9\n"


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("gb18030", b"", "gb18030"),
        ("utf-16", b"", "utf-16"),
    ],
)
def test_encodings_are_detected(write, encoding, prefix, expected):
    path = write("daily.csv", prefix + CSV.encode(encoding))
    raw = read_table(path)
    assert raw.encoding == expected
    assert raw.headers == ["客服昵称", "日期", "接待人数"]
    assert raw.table.column("客服昵称").to_pylist() == ["小美", "阿杰"]


def test_gb18030_file_declared_utf8_is_read_with_a_note(write):
    path = write("daily.csv", CSV, "gb18030")
    raw = read_table(path, encoding="utf-8")
    assert raw.table.column("客服昵称").to_pylist() == ["小美", "阿杰"]
    assert any("gb18030" in n for n in raw.notes)


def test_title_rows_blank_lines_footer_and_row_numbers(write):
    text = (
        "客服绩效报表 2026-05\n"  # row 1: title
        "\n"  # row 2
        "客服昵称,日期,接待人数\n"  # row 3: header
        "小美,2026-05-01,12\n"  # row 4
        "\n"  # row 5: blank
        "阿杰,2026-05-01,9\n"  # row 6
        "坏行\n"  # row 7: too few cells
        "小林,2026-05-01,3\n"  # row 8
        "合计,,24\n"  # row 9: total
        "Reporting period 2026-05-01 - 2026-05-31\n"  # row 10: footer
    )
    raw = read_table(write("report.csv", text))
    assert raw.header_row == 3
    assert raw.table.column("客服昵称").to_pylist() == ["小美", "阿杰", "小林"]
    assert raw.row_numbers.tolist() == [4, 6, 8]
    assert [(r.row_number, r.cells) for r in raw.ragged] == [(7, 1)]
    skipped = {(s.row_number, s.reason) for s in raw.skipped}
    assert skipped == {(5, "blank row"), (9, "total row"), (10, "footer line")}


def test_expected_headers_pick_the_header_row_over_a_wider_title(write):
    text = "a,b,c,d,e\nID,Assignee,Created at\n1,Ann,2026-01-01\n"
    raw = read_table(write("t.csv", text), expected_headers={"id", "assignee", "createdat"})
    assert raw.header_row == 2


def test_semicolon_and_tab_delimiters(write):
    assert read_table(write("a.csv", "x;y\n1;2\n")).headers == ["x", "y"]
    assert read_table(write("b.tsv", "x\ty\n1\t2\n")).headers == ["x", "y"]


def test_quoted_cells_with_line_breaks_and_commas(write):
    raw = read_table(write("c.csv", 'id,comment\n1,"slow, very\nslow"\n2,ok\n'))
    assert raw.table.column("comment").to_pylist() == ["slow, very\nslow", "ok"]


def test_duplicate_and_empty_headers_get_names(write):
    raw = read_table(write("d.csv", "a,a,,b\n1,2,3,4\n"))
    assert raw.headers == ["a", "a (2)", "column 3", "b"]


def test_skip_footer_rows_option(write):
    raw = read_table(write("f.csv", "a,b\n1,2\n3,4\n5,6\n"), skip_footer_rows=1)
    assert raw.table.column("a").to_pylist() == ["1", "3"]


def _xlsx(path, rows, title=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    for r in rows:
        ws.append(r)
    wb.create_sheet("说明").append(["notes"])
    wb.save(path)
    return path


def test_xlsx_with_title_row_typed_cells_and_sheets(tmp_path):
    rows = [
        ["#", "Owner", "Created At", "First Response In Min"],
        [1, "Ann", dt.datetime(2026, 5, 1, 9, 30), 12.5],
        [2, "Bob", dt.datetime(2026, 5, 2, 10, 0), 3],
    ]
    path = _xlsx(tmp_path / "zammad.xlsx", rows, title="Ticket report May")
    raw = read_table(path)
    assert raw.file_type == "xlsx" and raw.sheet == "数据"
    assert raw.header_row == 2
    assert raw.row_numbers.tolist() == [3, 4]
    assert raw.table.column("Created At").to_pylist() == [
        "2026-05-01 09:30:00",
        "2026-05-02 10:00:00",
    ]
    assert raw.table.column("First Response In Min").to_pylist() == ["12.5", "3"]
    assert sheet_names(path) == ["数据", "说明"]
    with pytest.raises(UnusableFile, match="no sheet 'Summary'.*数据, 说明"):
        read_table(path, sheet="Summary")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02\x03garbage\x00\xff\xfe\x00" * 50, "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old-style Excel"),
        (b"%PDF-1.7\n", "PDF"),
        (b"\n\n\n", "no rows"),
    ],
)
def test_unusable_files_say_why(write, content, message):
    with pytest.raises(UnusableFile, match=message):
        read_table(write("bad.csv", content))


def test_zip_renamed_xlsx_is_refused(tmp_path):
    path = tmp_path / "export.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(UnusableFile, match="zip archive, not an Excel workbook"):
        read_table(path)
