"""Reading untidy exports: encodings, title rows, footers, blank lines, row numbers, and
workbooks (.xlsx, old .xls even when named .xlsx, .xlsb, .ods) read as the same text."""

import codecs
import datetime as dt
import gc
import random
import re
import struct
import threading
import zipfile

import openpyxl
import pytest
import xlwt

from lib.core import gcpause
from lib.core.errors import UnusableFile
from lib.ingest import celltext, reader
from lib.ingest.reader import normalise_header, read_table, sheet_names

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


def test_a_csv_read_in_batches_gives_every_row_once_with_its_number(write):
    """Batches of 1,000 rows; a row longer than a read block after 2 MB of short rows (the
    file is read again in large blocks from there); a ragged row, blank rows and footers."""
    lines = ["id,name,note"] + [f"{i},agent_{i:06d},{'x' * 30}" for i in range(60_000)]
    lines[1] = '0,"agent, first",note'  # quotes: cells may hold line breaks
    lines[30_001] = "30000,agent,note,extra"  # line 30,002: one cell too many
    cell = "语" * 1_000_000  # 3 MB, the longest a cell may be
    lines.insert(60_001, f"long,agent,{cell},{cell}")  # one cell too many
    lines.insert(60_001, f"long,{cell},{cell}")  # 6 MB, a row over two read blocks
    lines += ["", "Exported by the helpdesk"]
    path = write("big.csv", "\n".join(lines) + "\n")
    whole = read_table(path)
    batches = list(reader.read_batches(path, batch_rows=1_000))
    assert len(batches) == 60
    assert [b.num_rows for b in batches[:-1]] == [1_000] * 59
    ids = [i for b in batches for i in b.table.column("id").to_pylist()]
    numbers = [int(n) for b in batches for n in b.row_numbers]
    assert ids == whole.table.column("id").to_pylist()
    assert numbers == whole.row_numbers.tolist()
    assert len(ids) == 60_000 and ids[-1] == "long" and numbers[-1] == 60_002
    assert numbers[30_000] == 30_003  # after the ragged line 30,002
    assert batches[-1].table.column("note")[-1].as_py() == cell
    ragged = [(r.row_number, r.cells) for r in batches[-1].ragged]
    assert ragged == [(30_002, 4), (60_003, 4)] == [(r.row_number, r.cells) for r in whole.ragged]
    assert [(s.row_number, s.reason) for s in batches[-1].skipped] == [
        (60_004, "blank row"),
        (60_005, "footer line"),
    ]
    assert all(not b.ragged and not b.skipped for b in batches[:-1])


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


# --- old .xls, .ods and the same text whatever the reader -----------------------------

# One sheet of every cell type exports hold, and the text each becomes (hand-written).
TYPED = [
    ["客服", "接待人数", "销售额", "转化率", "日期", "更新时间", "时刻", "时长", "已结", "备注"],
    ["小美", 12, 3456.5, 0.4532, dt.date(2026, 5, 1), dt.datetime(2026, 5, 1, 9, 30, 15),
     dt.time(9, 5), dt.timedelta(hours=27, minutes=3), True, None],
    ["阿杰", 0, -12.25, 1, dt.date(2026, 12, 31), dt.datetime(2026, 12, 31, 23, 59, 59),
     dt.time(0, 0, 30), dt.timedelta(seconds=90), False, "催单"],
]  # fmt: skip
TYPED_TEXT = {
    "客服": ["小美", "阿杰"],
    "接待人数": ["12", "0"],  # whole numbers without ".0"
    "销售额": ["3456.5", "-12.25"],
    "转化率": ["0.4532", "1"],  # a percentage cell is its number
    "日期": ["2026-05-01 00:00:00", "2026-12-31 00:00:00"],
    "更新时间": ["2026-05-01 09:30:15", "2026-12-31 23:59:59"],
    "时刻": ["09:05:00", "00:00:30"],
    "时长": ["27:03:00", "0:01:30"],
    "已结": ["true", "false"],
    "备注": ["", "催单"],
}
FORMATS = [None, None, "0.00", "0.00%", "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss", "hh:mm:ss",
           "[h]:mm:ss", None, None]  # fmt: skip


def _typed_xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    for r, row in enumerate(TYPED, start=1):
        for c, (value, fmt) in enumerate(zip(row, FORMATS), start=1):
            cell = ws.cell(r, c, value)
            if r > 1 and fmt:
                cell.number_format = fmt
    wb.save(path)
    return path


def _xls(path, rows, formats=(), merges=(), sheet="数据"):
    """An old .xls workbook written with xlwt; `merges` are (row1, row2, col1, col2, text),
    0-based, as xlwt takes them; `formats` are number formats per column."""
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    styles = [xlwt.easyxf(num_format_str=f) if f else xlwt.Style.default_style for f in formats]
    merged = {(r1, c1) for r1, _, c1, _, _ in merges}
    for r1, r2, c1, c2, text in merges:
        ws.write_merge(r1, r2, c1, c2, text)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or (r, c) in merged:
                continue
            if isinstance(value, dt.timedelta):  # a duration is a fraction of days
                value = value.total_seconds() / 86400
            style = styles[c] if c < len(styles) and r > 0 else xlwt.Style.default_style
            ws.write(r, c, value, style)
    book.add_sheet("说明").write(0, 0, "notes")
    book.save(str(path))
    return path


def test_xlsx_and_xls_of_the_same_sheet_read_as_the_same_text(tmp_path, monkeypatch):
    xlsx = read_table(_typed_xlsx(tmp_path / "typed.xlsx"))
    xls = read_table(_xls(tmp_path / "typed.xls", TYPED, FORMATS))
    assert (xlsx.file_type, xls.file_type) == ("xlsx", "xls")
    assert xlsx.table.to_pydict() == TYPED_TEXT
    assert xls.table.to_pydict() == TYPED_TEXT
    assert xls.row_numbers.tolist() == xlsx.row_numbers.tolist() == [2, 3]
    monkeypatch.setattr(reader, "XLSX_ENGINE", "openpyxl")  # the reader before calamine
    assert read_table(tmp_path / "typed.xlsx").table.to_pydict() == TYPED_TEXT


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_a_workbook_row_with_a_value_beyond_the_header_is_set_aside_whole(tmp_path, monkeypatch,
                                                                          engine):  # fmt: skip
    monkeypatch.setattr(reader, "XLSX_ENGINE", engine)
    wb = openpyxl.Workbook()
    for row in [["客服", "接待人数", "满意率"], ["小美", 12, 0.95], ["阿杰", 9, None, "备注"],
                [None, None, None], ["小林", 3.0, "90%"]]:  # fmt: skip
        wb.active.append(row)
    wb.save(tmp_path / "ragged.xlsx")
    raw = read_table(tmp_path / "ragged.xlsx")
    assert raw.table.to_pydict() == {"客服": ["小美", "小林"], "接待人数": ["12", "3"],
                                     "满意率": ["0.95", "90%"]}  # fmt: skip
    assert raw.row_numbers.tolist() == [2, 5]
    assert [(r.row_number, r.text, r.cells) for r in raw.ragged] == [(3, "阿杰,9,,备注", 3)]
    assert [(s.row_number, s.reason) for s in raw.skipped] == [(4, "blank row")]


def test_a_long_cell_in_a_workbook_is_named_by_the_first_row_that_holds_one(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_MAX_CELL_CHARS", "200")  # the scan allows 6 bytes a character
    wb = openpyxl.Workbook()
    for row in [["客服", "备注", "原因"], ["小美", "short", "ok"], ["阿杰", "x" * 201, "y" * 202],
                ["小林", "ok", "z" * 300]]:  # fmt: skip
        wb.active.append(row)
    wb.save(tmp_path / "long.xlsx")
    with pytest.raises(UnusableFile, match=r"a cell \(row 3, column C\) is longer than the limit"):
        read_table(tmp_path / "long.xlsx")


def test_a_column_of_numbers_reads_as_each_cell_would_alone():
    """Numbers are written a column at a time; each must read as `cell_text` writes it."""
    numbers = [3677.0, 0.1 + 0.2, 1e16, 1e-05, 2.5e-4, -0.0, 0.95, 123456789012.345, 1 / 3,
               -2.0**63, 1e300, float("inf"), float("nan"), 5e-324, 41.5, 100.0]  # fmt: skip
    assert celltext.column_text(numbers).to_pylist() == [
        "3677", "0.30000000000000004", "10000000000000000", "1e-05", "0.00025", "0", "0.95",
        "123456789012.345", "0.3333333333333333", "-9223372036854775808", str(int(1e300)),
        "inf", "nan", "5e-324", "41.5", "100"]  # fmt: skip
    rng = random.Random(7)
    mixed = [rng.choice([rng.uniform(-1e6, 1e6), round(rng.uniform(0, 1e4), 2),
                         float(rng.randrange(10**18)), rng.random() * 10.0 ** rng.randrange(-12, 24),
                         "", "小美"]) for _ in range(20_000)]  # fmt: skip
    assert celltext.column_text(mixed).to_pylist() == [celltext.cell_text(v) for v in mixed]
    typed = ["a", 1, True, dt.date(2026, 5, 1), 2.5, None, dt.time(9, 30)]
    assert celltext.column_text(typed).to_pylist() == [
        "a", "1", "true", "2026-05-01 00:00:00", "2.5", "", "09:30:00"]  # fmt: skip


def test_an_old_xls_named_xlsx_is_read_from_its_bytes(tmp_path):
    path = _xls(tmp_path / "typed.xls", TYPED, FORMATS).rename(tmp_path / "拼多多导出.xlsx")
    raw = read_table(path)
    assert raw.file_type == "xls" and raw.sheet == "数据" and raw.sheets == ["数据", "说明"]
    assert raw.table.to_pydict() == TYPED_TEXT
    assert sheet_names(path) == ["数据", "说明"]


# 拼多多 客服数据: a title on row 1, group headings on row 2 (店铺名 and 客服账号 merged down over
# rows 2–3), the column headers on row 3, data from row 4.
PDD_HEADERS = ["店铺名", "客服账号", "咨询人数", "询单人数", "最终成团人数", "询单转化率", "客服销售额",
               "去退销售额", "3分钟人工回复率(8-23点)", "30秒应答率(8-23点)", "平均人工响应时长",
               "人工接待人数", "3分钟未回复人数", "客服服务分"]  # fmt: skip
PDD_ROWS = [
    ["客服数据 2026-10-01 至 2026-10-31"] + [None] * 13,
    ["店铺名", "客服账号", "询单数据", None, None, None, "销售数据", None, "服务数据"] + [None] * 5,
    [None, None] + PDD_HEADERS[2:],
    ["拼多多旗舰店", "小美-pdd", 120, 80, 20, 0.25, 3456.5, 3000, 0.9512, 0.88, "41分52秒", 100, 2,
     4.85],
    ["拼多多旗舰店", "阿杰-pdd", 60, 30, 6, 0.2, 980, 980, 1, 0.9, "1分5秒", 55, 0, 4.9],
]  # fmt: skip
PDD_MERGES = [(0, 0, 0, 13, PDD_ROWS[0][0]), (1, 2, 0, 0, "店铺名"), (1, 2, 1, 1, "客服账号"),
              (1, 1, 2, 5, "询单数据"), (1, 1, 6, 7, "销售数据"), (1, 1, 8, 13, "服务数据")]  # fmt: skip
PDD_TEXT = [
    ["拼多多旗舰店", "小美-pdd", "120", "80", "20", "0.25", "3456.5", "3000", "0.9512", "0.88",
     "41分52秒", "100", "2", "4.85"],
    ["拼多多旗舰店", "阿杰-pdd", "60", "30", "6", "0.2", "980", "980", "1", "0.9", "1分5秒", "55",
     "0", "4.9"],
]  # fmt: skip


def _pdd_xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in PDD_ROWS:
        ws.append(row)
    for r1, r2, c1, c2, _ in PDD_MERGES:
        ws.merge_cells(start_row=r1 + 1, end_row=r2 + 1, start_column=c1 + 1, end_column=c2 + 1)
    wb.save(path)
    return path


@pytest.mark.parametrize("layout", ["xls named xlsx", "xlsx"])
@pytest.mark.parametrize("mapped", [False, True])
def test_pdd_export_with_title_and_group_header_rows(tmp_path, layout, mapped):
    path = tmp_path / "客服数据.xlsx"
    if layout == "xlsx":
        _pdd_xlsx(path)
    else:
        _xls(tmp_path / "pdd.xls", PDD_ROWS, merges=PDD_MERGES).rename(path)
    expected = {normalise_header(h) for h in PDD_HEADERS} if mapped else None
    raw = read_table(path, expected_headers=expected)
    assert raw.file_type == ("xls" if layout != "xlsx" else "xlsx")
    assert raw.header_row == 3
    assert raw.headers == PDD_HEADERS  # 店铺名 and 客服账号 filled from the merged cells above
    assert raw.row_numbers.tolist() == [4, 5]
    assert [list(r.values()) for r in raw.table.to_pylist()] == PDD_TEXT
    assert raw.skipped == [] and raw.ragged == []


MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type='
    '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'
)


def _ods(path, rows, pad=True):
    """An OpenDocument spreadsheet written by hand, padded with empty repeated rows and
    cells the way LibreOffice saves every sheet."""

    def cell(v):
        if v is None:
            return "<table:table-cell/>"
        if isinstance(v, tuple):  # ("error", "#DIV/0!"): a formula's error, as LibreOffice saves it
            return ('<table:table-cell table:formula="of:=1/0" office:value-type="string" '
                    f'office:string-value="" calcext:value-type="error"><text:p>{v[1]}</text:p>'
                    "</table:table-cell>")  # fmt: skip
        if isinstance(v, (int, float)):
            return (f'<table:table-cell office:value-type="float" office:value="{v}">'
                    f"<text:p>{v}</text:p></table:table-cell>")  # fmt: skip
        return (
            f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        )

    filler = '<table:table-cell table:number-columns-repeated="1000"/>' if pad else ""
    body = "".join(
        "<table:table-row>" + "".join(map(cell, r)) + filler + "</table:table-row>" for r in rows
    )
    if pad:
        body += ('<table:table-row table:number-rows-repeated="1048000">'
                 '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')  # fmt: skip
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')  # fmt: skip
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}><office:body>'
               f'<office:spreadsheet><table:table table:name="数据">{body}</table:table>'
               '<table:table table:name="说明"><table:table-row><table:table-cell '
               'office:value-type="string"><text:p>notes</text:p></table:table-cell>'
               "</table:table-row></table:table></office:spreadsheet></office:body>"
               "</office:document-content>")  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", MANIFEST)
    return path


def test_ods_is_read_with_its_padding_ignored(tmp_path):
    rows = [["快手小店 客服考核"], ["客服", "人工平均回复时长", "询单人数"],
            ["小美", "7小时41分52秒", 12], ["阿杰", None, 9.5]]  # fmt: skip
    path = _ods(tmp_path / "kuaishou.ods", rows)
    raw = read_table(path)
    assert raw.file_type == "ods" and raw.sheet == "数据"
    assert raw.header_row == 2 and raw.row_numbers.tolist() == [3, 4]
    assert raw.table.to_pydict() == {
        "客服": ["小美", "阿杰"],
        "人工平均回复时长": ["7小时41分52秒", ""],
        "询单人数": ["12", "9.5"],
    }
    assert sheet_names(path) == ["数据", "说明"]


def test_an_error_cell_in_an_ods_reads_as_its_text_as_in_the_other_formats(tmp_path):
    """calamine reads a formula's error as an empty cell; it must read as #DIV/0!, so that a
    number column sets the row aside as it does for the same sheet saved as .xlsx or .xls."""
    rows = [["客服", "客户满意率", "询单人数"], ["小美", ("error", "#DIV/0!"), 12],
            ["阿杰", 0.95, ("error", "#N/A")]]  # fmt: skip
    raw = read_table(_ods(tmp_path / "errors.ods", rows))
    assert raw.table.to_pydict() == {"客服": ["小美", "阿杰"], "客户满意率": ["#DIV/0!", "0.95"],
                                     "询单人数": ["12", "#N/A"]}  # fmt: skip
    assert reader.check_workbook(tmp_path / "errors.ods", "errors.ods").cells == {
        "数据": {(1, 1): "#DIV/0!", (2, 2): "#N/A"}}  # fmt: skip


def test_a_long_cell_in_an_ods_is_found_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_MAX_CELL_CHARS", "100")  # the scan allows 6 bytes a character
    path = _ods(tmp_path / "long.ods", [["客服", "备注"], ["小美", "q" * 601]])
    with pytest.raises(UnusableFile, match="long.ods: a cell is longer than the limit of 100"):
        reader.check_workbook(path, "long.ods")
    path = _ods(tmp_path / "long.ods", [["客服", "备注"], ["小美", "q" * 101]])
    with pytest.raises(UnusableFile, match=r"a cell \(row 2, column B\) is longer"):
        read_table(path)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_cell_limit_counts_characters_not_bytes(write_rows, monkeypatch, kind):
    """A cell of 100 Chinese characters (300 bytes) is within a limit of 100 characters; one
    more is over it, and named. Columns whose longest value in bytes is within the limit are
    passed without counting characters."""
    monkeypatch.setenv("SCORECARD_MAX_CELL_CHARS", "100")
    for n, ok in ((100, True), (101, False)):
        rows = [["客服", "备注", "询单人数"], ["小美", "好" * n, "3"], ["阿杰", "短", "4"]]
        path = write_rows(f"cells{n}.{kind}", rows)
        if ok:
            assert read_table(path).table.column("备注").to_pylist() == ["好" * n, "短"]
        else:
            with pytest.raises(UnusableFile, match=r"row 2.*longer than the limit of 100"):
                read_table(path)


# --- workbooks made to exhaust memory: refused before calamine lays them out -------------


def test_a_sheet_with_two_far_apart_cells_is_refused_before_it_is_laid_out(tmp_path):
    """calamine allocates every cell between the first and the last used one: A1 and
    XFD1048576 would be 17 billion cells."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "客服"
    wb.active["XFD1048576"] = "x"
    wb.save(tmp_path / "far.xlsx")
    with pytest.raises(
        UnusableFile, match=r"far.xlsx: .*17,179,869,184 cells.*SCORECARD_MAX_CELLS"
    ):
        read_table(tmp_path / "far.xlsx")


def test_cells_named_outside_their_row_or_without_a_reference_are_counted(tmp_path, monkeypatch):
    """A cell names its own place (`<c r="A90000">` inside `<row r="2">`), or takes the next one
    when it names none: both are found, whatever the rows say."""
    monkeypatch.setenv("SCORECARD_MAX_CELLS", "100000")
    wb = openpyxl.Workbook()
    wb.active.append(["客服", "接待人数"])
    wb.active.append(["小美", 12])
    wb.save(tmp_path / "plain.xlsx")
    assert read_table(tmp_path / "plain.xlsx").num_rows == 1

    def rewrite(name, old, new):
        with (
            zipfile.ZipFile(tmp_path / "plain.xlsx") as src,
            zipfile.ZipFile(tmp_path / name, "w") as dst,
        ):
            for info in src.infolist():
                data = src.read(info.filename)
                if info.filename == "xl/worksheets/sheet1.xml":
                    assert old in data
                    data = data.replace(old, new)
                dst.writestr(info.filename, data)
        return tmp_path / name

    # 90,000 rows × 2 columns = 180,000 cells, more than 100,000
    outside = rewrite("outside.xlsx", b'r="B2"', b'r="B90000"')
    with pytest.raises(UnusableFile, match="180,000 cells"):
        read_table(outside)
    # one row of 60,000 cells without references, after cells named up to column B: placed
    # by position they could follow column B, so 2 + 60,000 columns
    unnamed = rewrite("unnamed.xlsx", b"</row></sheetData>",
                      b"</row><row>" + b"<c><v>1</v></c>" * 60_000 + b"</row></sheetData>")  # fmt: skip
    with pytest.raises(UnusableFile, match="60,002 columns"):
        read_table(unnamed)


def _patch_xls_cell(path, row: int, col: int, value: float) -> None:
    """Move the NUMBER record holding `value` to (row, col), as a hostile file would."""
    import struct

    data = bytearray(path.read_bytes())
    at = data.find(struct.pack("<d", value))
    assert at > 0
    struct.pack_into("<HH", data, at - 6, row, col)  # NUMBER: row, column, style, value
    path.write_bytes(bytes(data))


def test_the_long_text_search_finds_what_the_regular_expression_finds():
    """`_long_run` looks at blocks, not every byte; its answer must be the pattern's."""
    rng = random.Random(3)
    for _ in range(3000):
        limit = rng.randrange(0, 40)
        gaps = [rng.choice([0, 1, 3, limit, limit + 1, limit + 2, 3 * limit]) for _ in range(8)]
        chunk = b"<".join(b"a" * g for g in gaps)
        start = max(chunk.find(b"<"), 0)
        expected = re.compile(rb"<[^<]{%d,}" % (limit + 1)).search(chunk, start) is not None
        assert reader._long_run(chunk, start, limit) == expected, (chunk, limit)


def test_a_hostile_xls_is_refused_from_its_records_before_calamine_reads_it(tmp_path, monkeypatch):
    path = _xls(tmp_path / "far.xls", [["客服", "接待人数"], ["小美", 1234.56789]])
    assert read_table(path).num_rows == 1
    # a number the format cannot pack into an RK record, so xlwt writes a NUMBER record
    _patch_xls_cell(path, 65535, 60000, 1234.56789)  # BIFF8 allows 256 columns; this says 60,001
    with pytest.raises(UnusableFile, match="far.xls: the sheet has 60,001 columns"):
        read_table(path)
    assert sheet_names(path) == []  # refused there too: calamine would lay out every sheet
    # Within the format's 65,536 × 256, but calamine would hold 2 × 16.8 million cells (1 GB)
    _patch_xls_cell(path, 65535, 255, 1234.56789)
    # 65,536 rows × 256 columns, and the notes sheet's one cell: 16,777,217
    with pytest.raises(UnusableFile, match=r"span 16,777,217 cells.*limit of 10,000,000 \(an old"):
        read_table(path)
    monkeypatch.setenv("SCORECARD_MAX_CELLS", "33554433")  # one short of 2 × 16,777,217
    with pytest.raises(UnusableFile, match="span 16,777,217 cells"):
        sheet_names(path) or read_table(path)


@pytest.mark.parametrize(
    "data",
    [
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 2000,  # a header pointing nowhere
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 20,
    ],
)
def test_a_damaged_xls_says_so(write, data):
    with pytest.raises(UnusableFile, match=r"bad.xlsx: this old-style Excel .xls workbook could"):
        read_table(write("bad.xlsx", data))


def _record(rtype: int, body: bytes = b"") -> bytes:
    """A BIFF12 record (MS-XLSB 2.1.4): type and length in 7-bit groups, then the body."""
    out = bytearray()
    for number in (rtype, len(body)):
        while True:
            low, number = number & 0x7F, number >> 7
            out.append(low | (0x80 if number else 0))
            if not number:
                break
    return bytes(out) + body


def _wide(text: str) -> bytes:
    data = text.encode("utf-16-le")
    return struct.pack("<I", len(data) // 2) + data


def _xlsb(path, rows, sheet="数据"):
    """A minimal .xlsb written by hand: a workbook naming one sheet, whose records are the
    sheet's size, a header per row, then text (BrtCellSt) and number (BrtCellReal) cells."""
    book = (_record(0x83) + _record(0x8F) + _record(0x9C, struct.pack("<II", 0, 1) + _wide("rId1")
            + _wide(sheet)) + _record(0x90) + _record(0x84))  # fmt: skip
    width = max(len(r) for r in rows)
    cells = _record(0x81) + _record(0x94, struct.pack("<IIII", 0, len(rows) - 1, 0, width - 1))
    cells += _record(0x91)
    for r, row in enumerate(rows):
        cells += _record(0x00, struct.pack("<IIHHBBI", r, 0, 300, 0, 0, 0, 0))
        for c, value in enumerate(row):
            if isinstance(value, str):
                cells += _record(0x06, struct.pack("<II", c, 0) + _wide(value))
            elif value is not None:
                cells += _record(0x05, struct.pack("<IId", c, 0, float(value)))
    cells += _record(0x92) + _record(0x82)
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/{}" Target="{}"/>'
            "</Relationships>")  # fmt: skip
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
             'org/package/2006/content-types"><Default Extension="bin" ContentType="application/'
             'vnd.ms-excel.sheet.binary.macroEnabled.main"/><Default Extension="rels" ContentType='
             '"application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/'
             'worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.worksheet"/></Types>')  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels.format("officeDocument", "xl/workbook.bin"))
        z.writestr("xl/workbook.bin", book)
        z.writestr("xl/_rels/workbook.bin.rels", rels.format("worksheet", "worksheets/sheet1.bin"))
        z.writestr("xl/worksheets/sheet1.bin", cells)
    return path


def test_xlsb_is_read_and_a_far_cell_in_it_is_refused(tmp_path):
    rows = [["京东 咚咚 客服绩效"], ["日期", "客服", "接待量"], ["2026-10-01", "jd_xiaomei", 37],
            ["2026-10-01", "jd_ajie", 12.5]]  # fmt: skip
    raw = read_table(_xlsb(tmp_path / "jd.xlsb", rows))
    assert raw.file_type == "xlsb" and raw.sheets == ["数据"] and raw.header_row == 2
    assert raw.table.to_pydict() == {
        "日期": ["2026-10-01", "2026-10-01"],
        "客服": ["jd_xiaomei", "jd_ajie"],
        "接待量": ["37", "12.5"],
    }
    assert raw.row_numbers.tolist() == [3, 4]
    assert sheet_names(tmp_path / "jd.xlsb") == ["数据"]
    far = rows + [[None] * 16383 + ["x"]]  # a cell in column XFD of row 5
    with pytest.raises(UnusableFile, match=r"span 81,920 cells"):  # 5 rows × 16,384 columns
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SCORECARD_MAX_CELLS", "50000")
            read_table(_xlsb(tmp_path / "far.xlsb", far))


def test_an_xls_with_a_password_says_so(tmp_path):
    path = _xls(tmp_path / "locked.xls", [["客服"], ["小美"]])
    data = path.read_bytes()
    codepage = b"\x42\x00\x02\x00"  # CODEPAGE, 2 bytes long: made into FILEPASS (0x002F)
    assert data.count(codepage) == 1
    path.write_bytes(data.replace(codepage, b"\x2f\x00\x02\x00"))
    with pytest.raises(UnusableFile, match="locked.xls: the workbook is protected by a password"):
        read_table(path)


def test_a_sheet_kept_outside_xl_worksheets_is_still_measured(tmp_path, monkeypatch):
    """The workbook finds its sheets through relationships, so a sheet may be anywhere."""
    wb = openpyxl.Workbook()
    wb.active.append(["客服", "接待人数"])
    wb.active.append(["小美", 12])
    wb.save(tmp_path / "plain.xlsx")
    moved = tmp_path / "moved.xlsx"
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as src, zipfile.ZipFile(moved, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            target = info.filename.replace("xl/worksheets/sheet1.xml", "xl/elsewhere/s.xml")
            if info.filename in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                data = data.replace(b"worksheets/sheet1.xml", b"elsewhere/s.xml")
            dst.writestr(target, data)
    assert read_table(moved).table.to_pydict() == {"客服": ["小美"], "接待人数": ["12"]}
    monkeypatch.setenv("SCORECARD_MAX_CELLS", "3")  # 2 rows × 2 columns = 4
    with pytest.raises(UnusableFile, match="moved.xlsx: the workbook's sheets span 4 cells"):
        read_table(moved)


def test_error_cells_read_as_their_text_whatever_the_format_or_reader(tmp_path, monkeypatch):
    """calamine reads #DIV/0! as an empty cell; the text is put back, as openpyxl reads it."""
    rows = [["客服", "询单转化率", "备注"], ["小美", "#DIV/0!", "ok"], ["阿杰", "#N/A", None]]
    expected = {"客服": ["小美", "阿杰"], "询单转化率": ["#DIV/0!", "#N/A"], "备注": ["ok", ""]}
    wb = openpyxl.Workbook()
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = wb.active.cell(r, c, value)
            if isinstance(value, str) and value.startswith("#"):
                cell.data_type = "e"
    wb.save(tmp_path / "errors.xlsx")
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("说明")
    ws.write(0, 0, "notes")
    ws = book.add_sheet("数据")  # the second sheet: errors are found by the sheet's name
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str) and value.startswith("#"):
                ws.row(r).set_cell_error(c, {"#DIV/0!": 0x07, "#N/A": 0x2A}[value])  # codes
            elif value is not None:
                ws.write(r, c, value)
    book.save(str(tmp_path / "errors.xls"))
    assert read_table(tmp_path / "errors.xls", sheet="数据").table.to_pydict() == expected
    assert read_table(tmp_path / "errors.xlsx").table.to_pydict() == expected
    monkeypatch.setattr(reader, "XLSX_ENGINE", "openpyxl")
    assert read_table(tmp_path / "errors.xlsx").table.to_pydict() == expected


def test_headers_over_two_rows_are_joined_where_that_helps(tmp_path):
    """A group heading over its columns (首次响应 over 时长(秒) and 次数): the group is put in
    front where the mapping expects the joined name, or where two columns share a name."""
    from lib.ingest import mapping

    text = (
        "客服绩效报表（2026-10）\n"
        "客服昵称,日期,首次响应,,平均响应,\n"
        ",,时长(秒),次数,时长(秒),次数\n"
        "小美,2026-10-01,12,5,30,5\n"
    )
    path = tmp_path / "two_rows.csv"
    path.write_text(text, encoding="utf-8")
    daily = mapping.load("qianniu_agent_daily")
    raw = read_table(path, expected_headers=daily.expected_headers())
    assert raw.headers == ["客服昵称", "日期", "首次响应时长(秒)", "首次响应次数", "平均响应时长(秒)",
                           "平均响应次数"]  # fmt: skip
    assert raw.table.to_pylist() == [{"客服昵称": "小美", "日期": "2026-10-01", "首次响应时长(秒)": "12",
                                      "首次响应次数": "5", "平均响应时长(秒)": "30", "平均响应次数": "5"}]  # fmt: skip
    found, missing = daily.resolve(raw.headers)
    assert (found["first_response_s"], found["avg_response_s"], missing) == (
        "首次响应时长(秒)",
        "平均响应时长(秒)",
        [],
    )


def test_a_workbook_is_checked_once_while_it_is_unchanged(tmp_path, monkeypatch):
    """The upload page reads one file several times; the whole-file check runs once for it,
    again when the file changes, and a refusal is never remembered."""
    import openpyxl

    from lib.ingest import reader as r

    path = tmp_path / "w.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Ticket ID", "Agent"])
    wb.active.append(["T1", "Ann"])
    wb.save(path)
    calls = []
    real = r.check_workbook
    monkeypatch.setattr(r, "check_workbook", lambda p, n: calls.append(p) or real(p, n))
    for _ in range(3):
        r.read_table(path, max_rows=5)
    r.sheet_names(path)
    assert len(calls) == 1
    wb.active.append(["T2", "Bob"])
    wb.save(path)
    r.read_table(path)
    assert len(calls) == 2
    monkeypatch.setenv("SCORECARD_MAX_CELLS", "2")  # now too big: refused every time
    for _ in range(2):
        with pytest.raises(UnusableFile):
            r.read_table(path)
    assert len(calls) == 4


def test_the_collector_is_paused_while_a_workbook_is_read_and_resumed_after(tmp_path, monkeypatch):
    book = openpyxl.Workbook()
    book.active.append(["Agent", "Tickets"])
    book.active.append(["小美", 3])
    book.save(tmp_path / "a.xlsx")
    seen = []
    workbook = reader._read_workbook
    monkeypatch.setattr(
        reader, "_read_workbook", lambda *a: seen.append(gc.isenabled()) or workbook(*a)
    )
    assert gc.isenabled()
    assert read_table(tmp_path / "a.xlsx").table.column("Agent").to_pylist() == ["小美"]
    assert seen == [False] and gc.isenabled()
    # Two readers at once: the collector comes back only when the last one is done.
    first_in, second_done = threading.Event(), threading.Event()
    during = []

    def first():
        with gcpause.paused():
            first_in.set()
            second_done.wait(10)
            during.append(gc.isenabled())

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(10)
    with gcpause.paused():
        pass
    second_done.set()
    thread.join(10)
    assert during == [False] and gc.isenabled()
    with pytest.raises(ValueError), gcpause.paused():  # a failed read resumes it too
        raise ValueError
    assert gc.isenabled()
