"""Read an export file (CSV, TSV, XLSX, XLS, XLSB or ODS) into a table of raw text with row numbers.

Real exports are untidy: GB18030 or UTF-16 instead of UTF-8, a title line above the header,
a "Reporting period …" or 合计 line below the data, blank lines, cells with line breaks.
`read_table` sniffs the file type from its bytes (not its name: 拼多多 names old .xls
workbooks .xlsx), detects the encoding and delimiter, finds the header row (using the
mapping's expected headers when given), and returns every data row as text with the row
number a person sees in Excel or an editor. Workbooks are read by calamine, after checks that
bound the memory it will take; their cells become the same text whatever the format.
Footer, total and blank lines are set aside and reported; rows with the wrong number of cells
are returned separately so ingestion can quarantine them. A file that is not a table at all
raises `UnusableFile` with a message saying what was found.
"""

from __future__ import annotations

import codecs
import csv
import html
import itertools
import posixpath
import re
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lib.core import gcpause, settings
from lib.core.errors import UnusableFile
from lib.ingest import celltext

SAMPLE_BYTES = 1 << 20
# A CSV is read in blocks of BLOCK_BYTES, and the reader reads a few dozen blocks ahead, so
# small blocks keep memory small; a row longer than a block is read again with large ones.
BLOCK_BYTES = 2 << 20
LARGE_BLOCK_BYTES = 16 << 20  # a row must fit in one of these
FOOTER_LINES = 10  # how many of the last lines may be footers
HEADER_SCAN_ROWS = 30
SUMMARY_MARKERS = {
    "合计",
    "总计",
    "汇总",
    "小计",
    "total",
    "totals",
    "grand total",
    "sum",
    "summary",
}


@dataclass
class SetAside:
    row_number: int
    text: str
    reason: str
    cells: int = 0


@dataclass
class RawTable:
    file_name: str
    table: pa.Table  # every column as text, named by the (de-duplicated) source headers
    row_numbers: np.ndarray  # source row number of each table row
    headers: list[str]
    header_row: int  # 1-based row of the header
    file_type: str  # csv | xlsx | xls | xlsb | ods
    encoding: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    ragged: list[SetAside] = field(default_factory=list)  # rows to quarantine
    skipped: list[SetAside] = field(default_factory=list)  # footer, total and blank lines
    notes: list[str] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


def normalise_header(text: str) -> str:
    """Header matching ignores case, spaces and full-/half-width differences."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).casefold()


# ---------------------------------------------------------------- file type and encoding


def sniff_type(head: bytes, name: str) -> str:
    if not head:
        raise UnusableFile(f"{name}: the file is empty.")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(OLE2_MAGIC):
        return "xls"
    if head.startswith(b"%PDF"):
        raise UnusableFile(f"{name}: this is a PDF, not a table. Export the data as CSV or Excel.")
    return "csv"


def detect_encoding(sample: bytes, declared: str | None = None) -> tuple[str, str]:
    """The encoding of a text sample and a note (empty unless something was corrected)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", ""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", ""
    if _looks_utf16le(sample):
        return "utf-16-le", ""
    if b"\x00" in sample:
        raise UnusableFile("binary data: this is not a CSV or text export")
    found, note = _text_encoding(sample, (declared or "auto").lower())
    if not _mostly_text(sample.decode(found, errors="ignore")):
        raise UnusableFile("binary data: this is not a CSV or text export")
    return found, note


def _text_encoding(sample: bytes, declared: str) -> tuple[str, str]:
    if declared not in ("auto", ""):
        if _decodes(sample, declared):
            return declared, ""
        found, _ = _text_encoding(sample, "auto")
        return (
            found,
            f"the mapping says {declared}, but the file is {found}; it was read as {found}",
        )
    if _decodes(sample, "utf-8"):
        return "utf-8", ""
    # Chinese platforms export GB18030/GBK when not UTF-8; it is a superset of GBK and GB2312.
    if _decodes(sample, "gb18030"):
        return "gb18030", ""
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise UnusableFile("binary data: this is not a CSV or text export")
    return best.encoding, ""


def _looks_utf16le(sample: bytes) -> bool:
    odd = sample[1:400:2]
    return len(odd) > 10 and odd.count(0) > 0.8 * len(odd)


def _decodes(sample: bytes, encoding: str) -> bool:
    # A sample may end inside a multi-byte character; allow a few trailing bytes.
    for cut in range(0, 4):
        try:
            (sample[: len(sample) - cut] if cut else sample).decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 4:
                return False
        except LookupError:
            raise UnusableFile(f"unknown encoding '{encoding}' in the mapping") from None
    return False


def _mostly_text(text: str) -> bool:
    if not text:
        return True
    control = sum(
        1 for ch in text[:20000] if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n"
    )
    return control < 0.01 * min(len(text), 20000)


# ---------------------------------------------------------------- header detection


def find_header(rows: list[list[str]], expected: set[str] | None) -> int:
    """Index of the header among the first rows.

    With a mapping, the row holding most of its headers. Otherwise the first row filled more
    than half as wide as the widest row: titles above a table fill one or two cells, while a
    header may leave a few cells blank.
    """
    if expected:
        scores = [sum(normalise_header(c) in expected for c in header_cells(rows, i, expected) if c)
                  for i in range(len(rows))]  # fmt: skip
        if scores and max(scores) > 0:
            return scores.index(max(scores))
    counts = [sum(1 for c in row if str(c).strip()) for row in rows]
    if not counts or max(counts) == 0:
        return 0
    widest = max(counts)
    for i, count in enumerate(counts):
        if count > widest / 2 and (count >= 2 or widest == 1):
            return i
    return counts.index(widest)


def header_cells(rows: list[list[str]], idx: int, expected: set[str] | None = None) -> list[str]:
    """The header of row `idx`, joined with a row of group headings above it where that
    helps: a blank cell under a merged heading takes the heading, and a cell under a group
    (首次响应 over 时长(秒)) takes the group's name in front when that gives a header the mapping
    expects, or tells apart two columns of the same name."""
    cells = [str(c) for c in rows[idx]]
    if idx == 0:
        return cells
    above = [str(c) for c in rows[idx - 1]]
    width = max(len(cells), len(above))
    cells += [""] * (width - len(cells))
    above += [""] * (width - len(above))
    groups = sum(1 for a in above if a.strip()) >= 2  # a title fills one cell, groups several
    names = [c.strip() for c in cells if c.strip()]
    out, group = [], ""
    for cell, head in zip(cells, above):
        group = head.strip() or group  # a merged heading spans the blanks after it
        text = cell.strip()
        if not text:
            out.append(head)
            continue
        if groups and group and group != text:
            sep = " " if group[-1].isascii() and text[0].isascii() else ""
            joined = f"{group}{sep}{text}"
            wanted = expected and normalise_header(joined) in expected
            if (wanted and normalise_header(text) not in expected) or names.count(text) > 1:
                out.append(joined)
                continue
        out.append(cell)
    return out


def _dedupe(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        h = str(h).strip() or f"column {i + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h} ({seen[h]})"
        else:
            seen[h] = 1
        out.append(h)
    return out


def _detect_delimiter(lines: list[str]) -> str:
    best, best_score = ",", (-1, -1)
    for delim in (",", "\t", ";", "|"):
        counts = [len(r) for r in csv.reader(lines, delimiter=delim) if r]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        score = (counts.count(modal) if modal > 1 else 0, modal)
        if score > best_score:
            best, best_score = delim, score
    return best


# ---------------------------------------------------------------- CSV


def _read_csv(
    path: Path,
    name: str,
    encoding: str | None,
    expected,
    header_row,
    max_rows=None,
    batch_rows: int | None = None,
    hold: int = 0,
) -> Iterator[tuple[RawTable, bool]]:
    """The data rows of a CSV/TSV file in batches of `batch_rows` (all at once when None),
    each with its source row numbers, and whether it is the last. The last batch keeps at
    least `hold` more rows, so that footers are judged on the file's true last lines; rows
    with the wrong number of cells all come with the last batch."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    try:
        enc, enc_note = detect_encoding(sample, encoding)
    except UnusableFile as exc:
        raise UnusableFile(f"{name}: {exc}") from None
    text = sample.decode(enc, errors="ignore")
    lines = text.splitlines()[:200]
    if len(sample) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    if not any(line.strip() for line in lines):
        raise UnusableFile(f"{name}: the file has no rows.")
    if len(sample) == SAMPLE_BYTES and b"\n" not in sample and b"\r" not in sample:
        raise UnusableFile(
            f"{name}: the first line is longer than {SAMPLE_BYTES // 1_000_000} MB, so this is "
            "not an export with one row per line."
        )
    try:
        delim = _detect_delimiter(lines[:60])
        first = list(csv.reader(lines[:HEADER_SCAN_ROWS], delimiter=delim))
    except csv.Error:  # a field over the csv module's limit in the first lines
        raise _too_long(name, settings.get("max_cell_chars")) from None
    idx = header_row - 1 if header_row else find_header(first, expected)
    if idx >= len(first):
        raise UnusableFile(f"{name}: header row {idx + 1} is past the end of the file.")
    _check_size(name, 0, len(first[idx]))
    headers = _dedupe(header_cells(first, idx, expected))
    header_line = _line_of_record(lines, idx, delim)
    notes = [enc_note] if enc_note else []
    if idx > 0:
        notes.append(f"header found on row {header_line}; rows above it were skipped")

    ragged_raw: list[tuple[int | None, str, int]] = []

    def on_invalid(row):
        ragged_raw.append((row.number, row.text, row.actual_columns))
        return "skip"

    source = path
    if max_rows is not None and len(sample) == SAMPLE_BYTES and sample.count(b"\n") > header_line:
        # A preview needs only the first rows: read them from the sample's whole lines.
        source = pa.BufferReader(sample[: sample.rfind(b"\n") + 1])

    def open_reader(block_bytes: int):
        if isinstance(source, pa.BufferReader):
            source.seek(0)
        # One thread: blocks are parsed in order, so every odd row comes with its line
        # number, and the rows of a batch are numbered as soon as the batch is read.
        return pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(
                use_threads=False,
                skip_rows=header_line,
                column_names=headers,
                encoding=enc if enc not in ("utf-8", "utf-8-sig") else "utf8",
                block_size=block_bytes,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim,
                invalid_row_handler=on_invalid,
                ignore_empty_lines=False,
                newlines_in_values='"' in text,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in headers},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    def record_batches():
        """The file's rows as Arrow record batches; when a row does not fit in a small
        block, the file is read again in large blocks from the first row not yet given."""
        given = 0
        for block_bytes in (BLOCK_BYTES, LARGE_BLOCK_BYTES):
            ragged_raw.clear()
            skip = given
            try:
                reader = open_reader(block_bytes)
                try:
                    for record_batch in reader:
                        if skip >= record_batch.num_rows:
                            skip -= record_batch.num_rows
                            continue
                        record_batch, skip = record_batch.slice(skip), 0
                        given += record_batch.num_rows
                        yield record_batch
                finally:
                    reader.close()
                return
            except pa.ArrowInvalid as exc:
                if "straddling" not in str(exc) or block_bytes == LARGE_BLOCK_BYTES:
                    raise

    first_data = header_line + 1

    def batch(table: pa.Table, start: int) -> RawTable:
        odd_lines = sorted(n for n, _, _ in ragged_raw if n is not None)
        positions = np.array([k - j - first_data for j, k in enumerate(odd_lines)], dtype=np.int64)
        index = np.arange(start, start + table.num_rows, dtype=np.int64)
        row_numbers = first_data + index + np.searchsorted(positions, index, side="right")
        _check_cell_lengths(name, table, row_numbers)
        return RawTable(
            name, table, row_numbers, headers, header_line, "csv", enc, notes=list(notes)
        )

    schema = pa.schema([(h, pa.string()) for h in headers])
    pending: list[pa.RecordBatch] = []
    count = start = 0
    try:
        for record_batch in record_batches():
            pending.append(record_batch)
            count += record_batch.num_rows
            if max_rows is not None and count >= max_rows:
                break
            while batch_rows is not None and count >= batch_rows + hold:
                table = pa.Table.from_batches(pending, schema)
                yield batch(table.slice(0, batch_rows), start), False
                start += batch_rows
                pending = table.slice(batch_rows).to_batches()
                count -= batch_rows
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if "straddling" in str(exc):  # one row bigger than a read block
            raise UnusableFile(
                f"{name}: a row is longer than {LARGE_BLOCK_BYTES // 1_000_000} MB; cells may hold at "
                f"most {settings.get('max_cell_chars'):,} characters (setting "
                "SCORECARD_MAX_CELL_CHARS)."
            ) from None
        raise UnusableFile(f"{name}: the file could not be read as CSV ({exc}).") from None
    table = pa.Table.from_batches(pending, schema)
    if max_rows is not None:
        table = table.slice(0, max_rows)
    raw = batch(table, start)
    raw.ragged = [
        SetAside(n or 0, t, f"row has {c} cell(s); the header has {len(headers)}", c)
        for n, t, c in ragged_raw
    ]
    yield raw, True


def _check_cell_lengths(name: str, table: pa.Table, row_numbers: np.ndarray) -> None:
    """Refuse a table with a cell over the limit, naming the first such cell."""
    max_cell = settings.get("max_cell_chars")
    for column in table.column_names:
        col = table.column(column)
        if not may_exceed(col, max_cell):
            continue
        lengths = pc.utf8_length(col)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > max_cell:
            index = pc.index(pc.greater(lengths, max_cell), True).as_py()
            raise _too_long(name, max_cell, int(row_numbers[index]), column)


def may_exceed(col, chars: int) -> bool:
    """Whether a text column may hold a value longer than `chars` characters: a character
    takes at least one byte, so none does when no value is longer in bytes (a cheap test
    that spares counting characters)."""
    longest = pc.max(pc.binary_length(col)).as_py()
    return longest is not None and longest > chars


def _line_of_record(lines: list[str], idx: int, delim: str) -> int:
    """1-based line where record `idx` ends (records may span lines inside quotes)."""
    reader = csv.reader(lines, delimiter=delim)
    for i, _ in enumerate(reader):
        if i == idx:
            return reader.line_num
    return idx + 1


# ---------------------------------------------------------------- workbooks

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .xls (BIFF) workbook, whatever its name
# The reader of .xlsx files: calamine (a Rust reader, several times faster) or openpyxl (the
# older path, kept for comparison; bench/xlsx_readers.py times both).
XLSX_ENGINE = "calamine"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_KIND_NAMES = {"xls": ".xls", "xlsx": ".xlsx", "xlsb": ".xlsb", "ods": ".ods"}


_TEXT_RUN = 8 << 20  # bytes read at a time when a workbook part is scanned
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?"')
_ROW_REF = re.compile(rb'r="(\d{1,10})"')  # <row r="12">
_ANY_ROW = re.compile(rb'r="[A-Z]{0,4}(\d{1,10})"')  # <row r="12"> or <c r="B12">
_WIDE_REF = re.compile(rb'r="([A-Z]{2,4})\d')  # columns past Z
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")


def _column_letters(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _workbook_kind(path: Path) -> str | None:
    """xlsx, xlsb or ods for a zip holding a workbook; None for any other zip."""
    try:
        with zipfile.ZipFile(path) as book:
            names = set(book.namelist())
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "xl/workbook.bin" in names:
                return "xlsb"
            if "content.xml" in names and "mimetype" in names:
                with book.open("mimetype") as fh:
                    if fh.read(len(_ODS_MIME)) == _ODS_MIME:
                        return "ods"
            if "[Content_Types].xml" in names:  # a workbook part under another name
                with book.open("[Content_Types].xml") as fh:
                    types = fh.read(1 << 20)
                if b"ms-excel.sheet.binary" in types:
                    return "xlsb"
                if b"spreadsheetml.sheet.main" in types or b"ms-excel.sheet.macroEnabled" in types:
                    return "xlsx"
    except (zipfile.BadZipFile, OSError, KeyError):
        pass
    return None


class _Extent:
    """An upper bound on the rows and columns a reader will lay out for one sheet: calamine
    allocates every cell between the first and the last used one, so a file with one cell in
    A1 and one in XFD1048576 would ask for 17 billion cells."""

    def __init__(self) -> None:
        self.rows = self.cols = 0
        self.errors = False  # cells holding an error value (#DIV/0!, #N/A)
        self.name = ""  # the sheet's, where the scan finds it (OpenDocument)
        self.cells: dict[tuple[int, int], str] = {}  # error cells by place, where found

    def add(self, rows: int, cols: int) -> None:
        self.rows, self.cols = max(self.rows, rows), max(self.cols, cols)


def _numbers_above(n: int) -> bytes:
    """A pattern for the whole numbers above `n`: as many digits and larger, or more digits
    (n = 5071: 507[2-9]|50[8-9]\\d|5[1-9]\\d{2}|[6-9]\\d{3}|\\d{5,})."""
    digits = str(n)
    alts = []
    for i, ch in enumerate(digits):
        if ch != "9":
            rest = len(digits) - i - 1
            alts.append(f"{digits[:i]}[{int(ch) + 1}-9]" + (rf"\d{{{rest}}}" if rest else ""))
    alts.append(rf"\d{{{len(digits) + 1},}}")
    return "|".join(alts).encode()


def _widest_letter(text: bytes) -> int:
    """The furthest single-letter column (1–26) a cell reference names, by halving A–Z."""
    lo, hi = 0, 26  # some reference names column lo or more (0: none seen); none names > hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if re.search(rb'r="[%c-Z]\d' % (64 + mid), text):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _scan_xml_sheet(stream, max_text: int, extent: _Extent) -> bool:
    """One pass over a worksheet's XML: whether some text between two tags is longer than
    `max_text` bytes, and the furthest row and column a cell names or reaches by position.
    Read in chunks, so a huge cell is found without ever being held in memory. Text cannot
    hold a raw '<', so the longest run without one bounds the longest cell. Cell references
    are only all read when some name a row past the rows' own (a normal sheet names each cell
    in its own row), which keeps the scan to a few passes of search and count."""
    carry = 0  # length of the text run still open at the end of the previous chunk
    tail = b""  # the end of the previous chunk, so a reference cut in two is still seen
    row_tags, positional, in_row, widest_row = 0, False, 0, 0
    while chunk := stream.read(_TEXT_RUN):
        first = chunk.find(b"<")
        if first == -1:
            carry += len(chunk)
            if carry > max_text:
                return True
            continue
        if carry + first > max_text or _long_run(chunk, first, max_text):
            return True
        carry = len(chunk) - chunk.rfind(b"<") - 1
        text = tail + chunk
        # Rows come in order: the last ones name the furthest, unless some reference (of a
        # row, or of a cell outside its row) names one further still; then read them all.
        extent.add(max(map(int, _ROW_REF.findall(text, len(text) - 4096)), default=0), 0)
        beyond = re.compile(rb'r="[A-Z]{0,4}+(?:%s)"' % _numbers_above(max(extent.rows, 1)))
        if beyond.search(text):
            extent.add(max(map(int, _ANY_ROW.findall(text))), 0)
        wide = set(_WIDE_REF.findall(text))
        extent.add(0, max(map(_column_number, wide)) if wide else _widest_letter(text))

        # Cells written without a reference (or with a namespace prefix) take the next place.
        # Each tag is counted in the chunk where it starts (up to 5 bytes before its end).
        lo, hi = max(len(tail) - 5, 0), len(text) - 5
        rows = text.count(b"<row", lo, hi + 3)
        row_tags += rows
        # Most sheets name every cell and row: each tag starting "<c" or "<row" has r="…".
        positional |= (
            (
                text.count(b"<c", lo, hi + 1) != text.count(b'<c r="', lo, hi + 5)
                or rows != text.count(b'<row r="', lo, hi + 7)
            )
            and _unnamed_tags(text, lo, hi)
            or b":c" in text
            or b":row" in text
        )
        if positional:
            pieces = re.split(rb"<(?:\w+:)?row\b", chunk)
            in_row += len(_CELL_TAG.findall(pieces[0]))
            for piece in pieces[1:]:
                widest_row = max(widest_row, in_row)
                in_row = len(_CELL_TAG.findall(piece))
        extent.errors |= b' t="e"' in text
        tail = chunk[-40:]
    if positional:  # a place taken by position may follow one named: count both
        extent.rows += row_tags
        extent.cols += max(widest_row, in_row)
    return carry > max_text


def _unnamed_tags(text: bytes, lo: int, hi: int) -> bool:
    """Whether some cell or row tag starting in text[lo:hi] has no reference first."""
    tags = (b'<c r="', b"<c ", b"<c>", b'<row r="', b"<row ", b"<row>")
    ended = [text.count(t, lo, hi + len(t) - 1) for t in tags]
    return ended[0] != ended[1] + ended[2] or ended[3] != ended[4] + ended[5]


def _long_run(chunk: bytes, start: int, limit: int) -> bool:
    """Whether some '<' at or after `start` is followed by more than `limit` bytes without
    another (as `<[^<]{limit+1,}` would find), looked for in blocks of half that length: such
    a run covers a whole block, and a block is passed at its first '<', so a chunk of short
    text costs a search per block."""
    step = max((limit + 1) // 2, 1)
    pos = start
    while pos < len(chunk):
        end = min(pos + step, len(chunk))
        if chunk.find(b"<", pos, end) == -1:
            left = chunk.rfind(b"<", start, pos)
            right = chunk.find(b"<", end)
            if left != -1 and (len(chunk) if right == -1 else right) - left - 1 > limit:
                return True
        pos = end
    return False


_ODS_TOKEN = re.compile(
    rb"<table:table(?=[\s>])([^>]*)>|<table:table-row\b([^>]*)>"
    rb"|<table:(?:covered-)?table-cell\b([^>]*?)(/?)>"
)
_ODS_REPEATED = re.compile(rb'number-(?:rows|columns)-repeated="(\d{1,10})"')
_ODS_NAME = re.compile(rb'table:name="([^"]*)"')
_ODS_TEXT = re.compile(rb"\s*<text:p>([^<]{0,40})</text:p>")


def _scan_ods(data: bytes) -> list[_Extent]:
    """The rows and columns each OpenDocument sheet spreads to, up to its last filled cell:
    a row or cell may be repeated (`number-rows-repeated="1048576"`), and only repeats that
    end before a filled cell count, as LibreOffice pads every sheet with empty ones. Each
    sheet's name and error cells (#DIV/0!, as LibreOffice shows them, by (row, column) from
    0) come with it: calamine reads an error cell as empty."""
    sheets: list[_Extent] = []
    extent, row, col = _Extent(), 0, 0
    for m in _ODS_TOKEN.finditer(data):
        table_attrs, row_attrs, cell_attrs, closed = m.groups()
        if table_attrs is not None:  # a new sheet
            extent, row = _Extent(), 0
            named = _ODS_NAME.search(table_attrs)
            extent.name = html.unescape(named.group(1).decode("utf-8", "replace")) if named else ""
            sheets.append(extent)
            continue
        attrs = row_attrs if row_attrs is not None else cell_attrs
        found = _ODS_REPEATED.search(attrs)
        repeat = int(found.group(1)) if found else 1
        if row_attrs is not None:
            row, col = row + repeat, 0
            continue
        col += repeat
        if not closed or b"office:value" in cell_attrs:  # a cell with content
            extent.add(row, col)
        if b'value-type="error"' in cell_attrs and repeat == 1 and row:
            shown = _ODS_TEXT.match(data, m.end())
            extent.cells[(row - 1, col - 1)] = (
                shown.group(1).decode("utf-8", "replace") if shown else "#N/A"
            )
    return sheets


_RELATION = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_SHEET_TYPE = re.compile(rb'Type="[^"]*/(?:work|dialog|macro|chart)sheet"')
_TARGET = re.compile(rb'Target="([^"]*)"')


def _sheet_parts(book: zipfile.ZipFile, name: str) -> set[str]:
    """The parts a reader takes as sheets: those under xl/worksheets/, and whatever any
    relationship of a sheet type points at, wherever it is (the workbook names its sheets
    through relationships, so a sheet may live anywhere in the zip)."""
    names = set(book.namelist())
    found = {n for n in names if n.startswith("xl/worksheets/") and n.endswith((".xml", ".bin"))}
    for rels in (n for n in names if n.endswith(".rels")):
        if book.getinfo(rels).file_size > 10_000_000:
            raise UnusableFile(f"{name}: part {rels} is too large for a list of parts.")
        base = posixpath.dirname(posixpath.dirname(rels))  # xl/_rels/x.rels names from xl/
        for tag in _RELATION.findall(book.read(rels)):
            target = _TARGET.search(tag)
            if target and _SHEET_TYPE.search(tag):
                text = target.group(1).decode("utf-8", "replace")
                path = text.lstrip("/") if text.startswith("/") else posixpath.join(base, text)
                found.add(posixpath.normpath(path))
    return found & names


_CHECKED: dict = {}  # a workbook file as it is now, and the limits → check_workbook's answer
_LIMITS = ("max_cell_chars", "max_columns", "max_rows", "max_cells", "max_xlsx_unpacked_mb",
           "max_xlsx_ratio")  # fmt: skip


class Checked(NamedTuple):
    """What `check_workbook` found besides its limits: cells holding an error value
    (#DIV/0!, #N/A), which calamine reads as empty."""

    unplaced: bool  # an .xlsx sheet holds some, where the scan does not say
    cells: dict[str, dict[tuple[int, int], str]]  # by sheet and (row, column) from 0 (.ods)


def checked_workbook(path: Path, name: str) -> Checked:
    """`check_workbook`, once per file as it is: the upload page reads one file for its sheet
    list, its preview and its store, and the check scans the whole file each time. A changed
    file (size or time) or changed limits are checked again; a refusal is never remembered."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns,
           tuple(settings.get(n) for n in _LIMITS))  # fmt: skip
    if key not in _CHECKED:
        answer = check_workbook(path, name)
        if len(_CHECKED) > 32:
            _CHECKED.clear()
        _CHECKED[key] = answer
    return _CHECKED[key]


def check_workbook(path: Path, name: str) -> Checked:
    """Refuse a workbook that would take too much memory or time, before parsing it: its
    unpacked size, each part's compression ratio (a zip bomb packs gigabytes of one letter
    into a few MB), each sheet's rows, columns and cells, and the longest cell. Old .xls
    workbooks are checked by `check_xls`. Limits: lib.core.settings. Returns the error cells
    found on the way (see `Checked`)."""
    with open(path, "rb") as fh:
        if fh.read(len(OLE2_MAGIC)) == OLE2_MAGIC:
            check_xls(path, name)
            return Checked(False, {})
    limit_mb = settings.get("max_xlsx_unpacked_mb")
    ratio_limit = settings.get("max_xlsx_ratio")
    max_cell = settings.get("max_cell_chars")
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return Checked(False, {})  # not a zip: the reader says what it is
    with book:
        parts = book.infolist()
        for part in parts:
            ratio = part.file_size / max(part.compress_size, 1)
            if part.file_size > 10_000_000 and ratio > ratio_limit:
                raise UnusableFile(
                    f"{name}: part {part.filename} unpacks to {ratio:,.0f} times its packed size "
                    f"(limit {ratio_limit:,}, setting SCORECARD_MAX_XLSX_RATIO); this is how a "
                    "zip bomb looks, so the workbook was not opened."
                )
        sheets = _sheet_parts(book, name)
        unpacked = sum(p.file_size for p in parts)
        if unpacked > limit_mb * 1_000_000:
            raise UnusableFile(
                f"{name}: the workbook unpacks to {unpacked / 1e6:,.0f} MB, more than the limit "
                f"of {limit_mb:,} MB (setting SCORECARD_MAX_XLSX_UNPACKED_MB). Save it as CSV, "
                "or split it into smaller files."
            )
        for part in parts:
            if part.filename not in sheets or part.filename.endswith(".bin"):
                continue
            with book.open(part) as stream:
                found = _DIMENSION.search(stream.read(1 << 16))
            if found and found.group(4):
                rows, cols = int(found.group(4)), _column_number(found.group(3))
                _check_size(name, rows, cols)
        if "xl/sharedStrings.xml" in book.namelist():
            part = book.getinfo("xl/sharedStrings.xml")
            # A character takes 1–4 bytes in UTF-8 and an escaped one (&quot;) up to 6.
            if part.file_size > max_cell:
                with book.open(part) as stream:
                    if _scan_xml_sheet(stream, 6 * max_cell, _Extent()):
                        raise _too_long(name, max_cell)
        total, errors, cells = 0, False, {}
        for part in parts:
            extent = _Extent()
            if part.filename in sheets and not part.filename.endswith(".bin"):
                with book.open(part) as stream:
                    if _scan_xml_sheet(stream, 6 * max_cell, extent):
                        raise _too_long(name, max_cell)
                errors |= extent.errors
            elif part.filename in sheets:
                with book.open(part) as stream:
                    _scan_xlsb_sheet(stream, part.file_size, extent)
            elif part.filename == "content.xml":
                content = book.read(part)
                first = content.find(b"<")
                if first != -1 and _long_run(content, first, 6 * max_cell):
                    raise _too_long(name, max_cell)
                for sheet in _scan_ods(content):
                    _check_size(name, sheet.rows, sheet.cols)
                    total += sheet.rows * sheet.cols
                    if sheet.cells:
                        cells[sheet.name] = sheet.cells
                continue
            else:
                continue
            _check_size(name, extent.rows, extent.cols)
            total += extent.rows * extent.cols
        _check_cells(name, total)
        return Checked(errors, cells)


def _scan_xlsb_sheet(stream, size: int, extent: _Extent) -> None:
    """The furthest row and column an .xlsb sheet's records name. Records are a type and a
    length, each written in 7-bit groups; a row header starts with its row and a cell with its
    column (MS-XLSB 2.1.4)."""
    data = stream.read(size)
    pos, end, row = 0, len(data), 0
    while pos < end:
        rtype = data[pos] & 0x7F
        if data[pos] & 0x80:
            pos += 1
            rtype |= (data[pos] & 0x7F) << 7 if pos < end else 0
        pos += 1
        length, shift = 0, 0
        for _ in range(4):
            if pos >= end:
                break
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if pos + 4 <= end:
            (number,) = struct.unpack_from("<I", data, pos)
            if rtype == 0x00:  # BrtRowHdr
                row = number + 1
                extent.add(row, 0)
            elif 0x01 <= rtype <= 0x12 or rtype == 0x3E:  # the cell records
                extent.add(row, number + 1)
        pos += length


# BIFF records (MS-XLS 2.3): the cell records start with row and column.
_BIFF_CELLS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0201, 0x0205, 0x0204, 0x00D6}
_BIFF_MULTI = {0x00BD, 0x00BE}  # MULRK, MULBLANK: row, first column, …, last column
_BIFF_BOF, _BIFF_FILEPASS = 0x0809, 0x002F


class _Damaged(Exception):
    pass


def _ole_stream(data: bytes, wanted: tuple[str, ...]) -> bytes:
    """One stream of an OLE2 compound file (MS-CFB), read from the file's bytes. Every sector
    number and chain is checked, so a damaged or hostile file fails here, quickly."""
    if len(data) < 512:
        raise _Damaged("shorter than its header")
    major, _, shift, mini_shift = struct.unpack_from("<HHHH", data, 0x1A)
    if shift not in (9, 12) or mini_shift != 6:
        raise _Damaged("unknown sector size")
    size = 1 << shift
    n_fat, dir_start = struct.unpack_from("<II", data, 0x2C)
    cutoff, minifat_start, n_minifat, difat_start, n_difat = struct.unpack_from(
        "<IIIII", data, 0x38
    )
    sectors = (len(data) - 1) // size  # the last one may be cut short
    if n_fat > sectors or n_minifat > sectors or n_difat > sectors:
        raise _Damaged("more tables than sectors")

    def sector(n: int) -> bytes:
        if n >= sectors:
            raise _Damaged("a sector past the end of the file")
        return data[(n + 1) * size : (n + 2) * size]

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    n = difat_start
    for _ in range(n_difat):
        values = struct.unpack(f"<{size // 4}I", sector(n))
        difat += values[:-1]
        n = values[-1]
    fat: list[int] = []
    for n in difat[:n_fat]:
        fat += struct.unpack(f"<{size // 4}I", sector(n))

    def chain(start: int, table: list[int]) -> list[int]:
        out = []
        n = start
        while n < 0xFFFFFFFA:
            if n >= len(table) or len(out) > len(table):
                raise _Damaged("a broken sector chain")
            out.append(n)
            n = table[n]
        return out

    directory = b"".join(sector(n) for n in chain(dir_start, fat))
    entries = []
    for i in range(0, len(directory) - 127, 128):
        name_len = min(struct.unpack_from("<H", directory, i + 64)[0], 64)
        kind = directory[i + 66]
        start, length = struct.unpack_from("<IQ", directory, i + 116)
        if major == 3:
            length &= 0xFFFFFFFF
        entries.append((directory[i : i + max(name_len - 2, 0)].decode("utf-16-le", "replace"),
                        kind, start, length))  # fmt: skip
    if not entries:
        raise _Damaged("no directory")
    for entry_name, kind, start, length in entries:
        if kind != 2 or entry_name not in wanted:
            continue
        if length > len(data):
            raise _Damaged("a stream longer than the file")
        if length >= cutoff:
            return b"".join(sector(n) for n in chain(start, fat))[:length]
        minifat: list[int] = []
        for n in chain(minifat_start, fat):
            minifat += struct.unpack(f"<{size // 4}I", sector(n))
        root = entries[0]
        mini = b"".join(sector(n) for n in chain(root[2], fat))
        out = b"".join(mini[m * 64 : (m + 1) * 64] for m in chain(start, minifat))
        if len(out) < length:
            raise _Damaged("a stream shorter than it says")
        return out[:length]
    raise _Damaged("no Workbook stream")


def check_xls(path: Path, name: str) -> dict[str, dict[tuple[int, int], str]]:
    """Refuse an old .xls workbook that is too big or damaged, before calamine reads it: the
    file's size, and each sheet's rows, columns and cells, found by walking the workbook's
    records (calamine lays out every sheet in full when it opens the file). A .xls cell holds
    at most 65,535 characters (BIFF8 writes the length in 16 bits), so no cell is too long.
    Returns the error cells (#DIV/0!, #N/A) of each sheet by (row, column) from 0, which
    calamine reads as empty."""
    limit_mb = settings.get("max_xlsx_unpacked_mb")
    size = path.stat().st_size
    if size > limit_mb * 1_000_000:
        raise UnusableFile(
            f"{name}: the .xls workbook is {size / 1e6:,.0f} MB, more than the limit of "
            f"{limit_mb:,} MB (setting SCORECARD_MAX_XLSX_UNPACKED_MB). Save it as CSV, or "
            "split it into smaller files."
        )
    try:
        stream = _ole_stream(path.read_bytes(), ("Workbook", "Book"))
    except (_Damaged, struct.error) as exc:
        raise _old_excel(name, f"the file is damaged: {exc}") from None
    sheets: list[_Extent] = []
    names: dict[int, str] = {}  # where each sheet's records start → its name
    errors: dict[int, dict[tuple[int, int], str]] = {}  # by where the sheet's records start
    extent, here = _Extent(), {}
    pos, end = 0, len(stream)
    unpack = struct.unpack_from
    while pos + 4 <= end:
        rtype, length = unpack("<HH", stream, pos)
        body = pos + 4
        if rtype in _BIFF_CELLS and length >= 4 and body + 4 <= end:
            row, col = unpack("<HH", stream, body)
            extent.add(row + 1, col + 1)
            code = _biff_error(stream, rtype, body, length)
            if code is not None:
                here[(row, col)] = _BIFF_ERRORS.get(code, "#N/A")
        elif rtype in _BIFF_MULTI and length >= 6 and body + length <= end:
            (row,) = unpack("<H", stream, body)
            (last,) = unpack("<H", stream, body + length - 2)
            extent.add(row + 1, last + 1)
        elif rtype == _BIFF_BOF:
            extent, here = _Extent(), {}
            sheets.append(extent)
            errors[pos] = here
        elif rtype == _BIFF_BOUNDSHEET and length >= 8 and body + length <= end:
            (start,) = unpack("<I", stream, body)
            names[start] = _biff_sheet_name(stream[body + 6 : body + length])
        elif rtype == _BIFF_FILEPASS:  # the records after it are encrypted
            raise UnusableFile(
                f"{name}: the workbook is protected by a password. Open it, remove the "
                "password, save it and upload again."
            )
        pos = body + length
    for sheet in sheets:
        _check_size(name, sheet.rows, sheet.cols)
    # calamine lays out every sheet of a .xls when it opens the file, and again when the
    # sheet is taken: its cells count twice.
    _check_cells(name, sum(s.rows * s.cols for s in sheets), held=2)
    return {names[start]: cells for start, cells in errors.items() if start in names and cells}


# Error values (MS-XLS 2.5.10 BErr) as Excel writes them
_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
                0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}  # fmt: skip
_BIFF_BOUNDSHEET = 0x0085


def _biff_error(stream: bytes, rtype: int, body: int, length: int) -> int | None:
    """The error code of a BOOLERR cell or of a formula whose last value was an error."""
    if rtype == 0x0205 and length >= 8:  # BOOLERR: row, column, style, value, is-error
        return stream[body + 6] if stream[body + 7] == 1 else None
    if rtype == 0x0006 and length >= 14:  # FORMULA: row, column, style, 8-byte result
        value = stream[body + 6 : body + 14]
        if value[6:8] == b"\xff\xff" and value[0] == 0x02:
            return value[2]
    return None


def _biff_sheet_name(data: bytes) -> str:
    """A BOUNDSHEET's name: a length, then (BIFF8) a flag for 16-bit characters."""
    if len(data) < 2:
        return ""
    count, wide = data[0], data[1] & 1
    if wide:
        return data[2 : 2 + 2 * count].decode("utf-16-le", "replace")
    return data[2 : 2 + count].decode("latin-1")


def _old_excel(name: str, reason: str) -> UnusableFile:
    return UnusableFile(
        f"{name}: this old-style Excel .xls workbook could not be read ({reason}). Open it in "
        "Excel or WPS and save it as .xlsx or CSV, then upload again."
    )


def _check_size(name: str, rows: int, cols: int) -> None:
    max_rows, max_cols = settings.get("max_rows"), settings.get("max_columns")
    if cols > max_cols:
        raise UnusableFile(
            f"{name}: the sheet has {cols:,} columns, more than the limit of {max_cols:,} "
            "(setting SCORECARD_MAX_COLUMNS). Remove the columns you do not need."
        )
    if rows > max_rows:
        raise UnusableFile(
            f"{name}: the sheet has {rows:,} rows, more than the limit of {max_rows:,} "
            "(setting SCORECARD_MAX_ROWS). Split it into smaller files."
        )


def _check_cells(name: str, cells: int, held: int = 1) -> None:
    limit = settings.get("max_cells")
    if cells * held > limit:
        twice = " (an old .xls counts twice: its reader holds it twice)" if held == 2 else ""
        raise UnusableFile(
            f"{name}: the workbook's sheets span {cells:,} cells (rows × columns, from the first "
            f"to the last used cell), more than the limit of {limit:,}{twice} (setting "
            "SCORECARD_MAX_CELLS). Delete the far-away cells, save it as CSV, or split it."
        )


def _too_long(name: str, max_cell: int, row: int | None = None, column: str | None = None):
    where = f" (row {row}, column {column})" if row is not None else ""
    return UnusableFile(
        f"{name}: a cell{where} is longer than the limit of {max_cell:,} characters (setting "
        "SCORECARD_MAX_CELL_CHARS). Shorten it, or remove the column."
    )


def _rows_openpyxl(path: Path, name: str, sheet, limit, progress):
    """The sheet's cell values through openpyxl (the .xlsx reader before calamine), one list
    per row; `_read_workbook` makes them text as it does calamine's."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnusableFile(f"{name}: the workbook could not be opened ({exc}).") from None
    try:
        sheets = wb.sheetnames
        _check_sheet(name, sheet, sheets)
        ws = wb[sheet] if sheet is not None else wb[sheets[0]]
        total = ws.max_row or 0
        rows: list[list] = []
        for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
            rows.append(list(values))
            if limit is not None and i >= limit:
                break
            if progress and i % 20000 == 0 and total:
                progress(min(i / total, 1.0), f"reading row {i:,} of {total:,}")
        return rows, ws.title, sheets
    finally:
        wb.close()


def _rows_calamine(path: Path, name: str, kind: str, sheet, limit, progress):
    """Rows of cell text through calamine, for .xlsx, .xls, .xlsb and .ods alike. The text is
    what the openpyxl path gives for the same cells, so stored values do not depend on the
    reader."""
    import python_calamine as cal

    with open(path, "rb") as fh:  # from the bytes, so that a .xls named .xlsx is read too
        try:
            book = cal.CalamineWorkbook.from_filelike(fh)
        except cal.PasswordError:
            raise UnusableFile(
                f"{name}: the workbook is protected by a password. Open it, remove the "
                "password, save it and upload again."
            ) from None
        except (cal.CalamineError, ValueError, OSError) as exc:
            if kind == "xls":
                raise _old_excel(name, str(exc)) from None
            raise UnusableFile(
                f"{name}: the {_KIND_NAMES[kind]} workbook could not be opened ({exc})."
            ) from None
        with book:
            return _calamine_sheet(book, name, sheet, limit, progress)


def _calamine_sheet(book, name: str, sheet, limit, progress):
    """The sheet's cell values from A1 (openpyxl and Excel count from there, calamine from
    the first used cell), one list per row, all as wide as the widest."""
    import python_calamine as cal

    sheets = list(book.sheet_names)
    _check_sheet(name, sheet, sheets)
    if not sheets:
        raise UnusableFile(f"{name}: the workbook has no sheets.")
    title = sheet if sheet is not None else sheets[0]
    if progress:
        progress(0.0, f"reading sheet {title}")
    try:
        ws = book.get_sheet_by_name(title)
    except (cal.CalamineError, ValueError) as exc:
        raise UnusableFile(f"{name}: sheet '{title}' could not be read ({exc}).") from None
    if ws.start is None:
        return [], title, sheets
    return ws.to_python(skip_empty_area=False, nrows=limit), title, sheets


def _check_sheet(name: str, sheet: str | None, sheets: list[str]) -> None:
    if sheet is not None and sheet not in sheets:
        raise UnusableFile(
            f"{name}: there is no sheet '{sheet}'. Sheets in this workbook: {', '.join(sheets)}."
        )


def _row_text(name: str, number: int, cells: list[str], max_cell: int) -> list[str]:
    if cells and max(map(len, cells)) > max_cell:
        j = max(range(len(cells)), key=lambda k: len(cells[k]))
        raise _too_long(name, max_cell, number, _column_letters(j + 1))
    return cells


def _check_column_lengths(name: str, columns: list, numbers: np.ndarray, max_cell: int) -> None:
    """`_row_text`'s check over columns of text: the first row with a cell too long, and
    in it the longest cell, named as the row-by-row check names it."""
    first = None
    for col in columns:
        if not may_exceed(col, max_cell):
            continue
        over = np.flatnonzero(pc.greater(pc.utf8_length(col), max_cell).to_numpy(False))
        if over.size and (first is None or over[0] < first):
            first = int(over[0])
    if first is not None:
        _row_text(name, int(numbers[first]), [col[first].as_py() for col in columns], max_cell)


def _read_workbook(
    path: Path, name: str, kind: str, sheet, expected, header_row, progress, max_rows=None
) -> RawTable:
    """A workbook of any format as a RawTable: checked, read as cell text, then the header
    found (a merged group heading above fills its blank cells) and the rows below it taken."""
    if kind != "xls":
        kind = _workbook_kind(path)
        if kind is None:
            raise UnusableFile(
                f"{name}: this is a zip archive, not an Excel workbook. Unzip it, or export "
                "the data as .xlsx or CSV."
            )
    if kind == "xls":
        unplaced, cell_errors = False, check_xls(path, name)
    else:
        unplaced, cell_errors = checked_workbook(path, name)
    limit = None if max_rows is None else HEADER_SCAN_ROWS + max_rows
    # calamine reads an error cell as empty; openpyxl as its text (#DIV/0!), which a number
    # column then sets aside as unreadable. The same workbook must store the same either way.
    if kind == "xlsx" and (XLSX_ENGINE == "openpyxl" or unplaced):
        rows, title, sheets = _rows_openpyxl(path, name, sheet, limit, progress)
    else:
        rows, title, sheets = _rows_calamine(path, name, kind, sheet, limit, progress)
        for (r, c), text in cell_errors.get(title, {}).items():
            if r < len(rows):
                rows[r] += [""] * (c + 1 - len(rows[r]))
                rows[r][c] = text
    max_cell = settings.get("max_cell_chars")
    # The rows a header may be on, as text; the rows below the header go column by column.
    scan = max(HEADER_SCAN_ROWS, header_row or 0)
    head_rows = [_row_text(name, i, celltext.row_text(r), max_cell)
                 for i, r in enumerate(rows[:scan], start=1)]  # fmt: skip
    if not any(c.strip() for r in head_rows for c in r) and not any(
        c.strip() for r in rows[scan:] for c in celltext.row_text(r)
    ):
        raise UnusableFile(f"{name}: sheet '{title}' has no rows.")
    idx = header_row - 1 if header_row else find_header(head_rows, expected)
    if idx >= len(rows):
        raise UnusableFile(f"{name}: header row {idx + 1} is past the end of the sheet.")
    head = header_cells(head_rows, idx, expected)
    width = max(len(head), 1)
    while width > 1 and not head[width - 1].strip():
        width -= 1  # trailing empty header cells are formatting, not columns
    _check_size(name, 0, width)
    headers = _dedupe(head[:width] + [""] * (width - len(head)))
    if progress:
        progress(0.5, f"reading {len(rows) - idx - 1:,} rows")
    body = rows[idx + 1 :]
    columns = [celltext.column_text(c) for c in itertools.zip_longest(*body, fillvalue="")]
    columns += [pa.array([""] * len(body), pa.string())] * (width - len(columns))
    numbers = np.arange(idx + 2, idx + 2 + len(body), dtype=np.int64)
    _check_column_lengths(name, columns, numbers, max_cell)
    # A row with a value beyond the header's columns is set aside whole.
    beyond = np.zeros(len(body), dtype=bool)
    for col in columns[width:]:
        beyond |= _filled(col)
    ragged = []
    for i in np.flatnonzero(beyond):
        cells = [col[i].as_py() for col in columns[: len(body[i])]]
        filled = len([c for c in cells if c.strip()])
        reason = f"row has values beyond the {width} header columns"
        ragged.append(SetAside(int(numbers[i]), ",".join(cells), reason, filled))
    table = pa.table({h: col for h, col in zip(headers, columns[:width])})
    if beyond.any():
        table, numbers = table.filter(pa.array(~beyond)), numbers[~beyond]
    notes = [f"header found on row {idx + 1}; rows above it were skipped"] if idx > 0 else []
    return RawTable(
        name,
        table,
        numbers,
        headers,
        idx + 1,
        kind,
        None,
        title,
        sheets,
        ragged=ragged,
        notes=notes,
    )


# ---------------------------------------------------------------- entry point


def read_table(
    path: str | Path,
    *,
    file_name: str | None = None,
    sheet: str | None = None,
    encoding: str | None = "auto",
    expected_headers: set[str] | None = None,
    header_row: int | None = None,
    skip_footer_rows: int = 0,
    progress=None,
    max_rows: int | None = None,
) -> RawTable:
    """Read any supported export into a RawTable; raise UnusableFile with a clear reason.

    `max_rows` reads only the first data rows, for a preview.
    """
    batches = read_batches(path, file_name=file_name, sheet=sheet, encoding=encoding,
                           expected_headers=expected_headers, header_row=header_row,
                           skip_footer_rows=skip_footer_rows, progress=progress,
                           max_rows=max_rows, batch_rows=None)  # fmt: skip
    return next(iter(batches))


def read_batches(
    path: str | Path,
    *,
    file_name: str | None = None,
    sheet: str | None = None,
    encoding: str | None = "auto",
    expected_headers: set[str] | None = None,
    header_row: int | None = None,
    skip_footer_rows: int = 0,
    progress=None,
    max_rows: int | None = None,
    batch_rows: int | None = None,
) -> Iterator[RawTable]:
    """Read an export as RawTables of at most about `batch_rows` data rows each (one table
    when None), so that a large CSV is never held whole; workbooks come as one table. Blank
    and total rows are set aside in each batch, footers in the last; rows with the wrong
    number of cells come with the last batch. Raise UnusableFile with a clear reason, at the
    end when the file turns out to hold no rows."""
    path = Path(path)
    name = file_name or path.name
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise UnusableFile(f"{name}: the file could not be opened ({exc.strerror}).") from None
    kind = sniff_type(head, name)
    if kind != "csv":
        with gcpause.paused():  # millions of cell texts: see lib.core.gcpause
            raw = _read_workbook(
                path, name, kind, sheet, expected_headers, header_row, progress, max_rows
            )
        if max_rows is not None:
            raw.table = raw.table.slice(0, max_rows)
            raw.row_numbers = raw.row_numbers[:max_rows]
        batches = iter([(raw, True)])
    else:
        hold = max(FOOTER_LINES, skip_footer_rows)
        batches = _read_csv(
            path, name, encoding, expected_headers, header_row, max_rows, batch_rows, hold
        )
    rows = last_data_row = 0
    for raw, last in batches:
        last_data_row = _set_aside_non_data(raw, skip_footer_rows, last, last_data_row)
        rows += raw.table.num_rows
        if last and rows == 0 and not raw.ragged:  # a header, perhaps a footer: nothing to store
            raise UnusableFile(f"{name}: the file has no rows.")
        yield raw


def _set_aside_non_data(
    raw: RawTable, skip_footer_rows: int, last: bool = True, last_data_row: int = 0
) -> int:
    """Move blank rows, total rows and (in the file's last batch) trailing footer lines out
    of the data; return the row number of the last data row so far (`last_data_row` is that
    of the batches before)."""
    table = raw.table
    n = table.num_rows
    if n == 0:
        if last:
            _footer_ragged(raw, last_data_row)
        return last_data_row
    # A row is kept when a cell is filled: columns are looked at only for the rows that have
    # none so far (most rows are settled by the first column). The count of filled cells,
    # which tells a footer line, is needed only for the last lines.
    keep = np.zeros(n, dtype=bool)
    for name in table.column_names:
        todo = np.flatnonzero(~keep)
        if not todo.size:
            break
        col = table.column(name)
        col = col if todo.size == n else col.take(pa.array(todo))
        keep[todo] |= _filled(col)
    tail = max(0, n - FOOTER_LINES)
    filled = np.zeros(n, dtype=np.int64)
    if last:
        for name in table.column_names:
            filled[tail:] += _filled(table.column(name).slice(tail))
    reasons = {i: "blank row" for i in np.flatnonzero(~keep)}
    # Total rows (合计/Total) in the first two columns are summaries, not records: only
    # values as short as a marker are lower-cased and compared.
    longest = max(map(len, SUMMARY_MARKERS))
    for name in table.column_names[:2]:
        first_col = pc.utf8_trim_whitespace(table.column(name))
        short = np.flatnonzero(
            pc.fill_null(pc.less_equal(pc.utf8_length(first_col), longest), False).to_numpy(
                zero_copy_only=False
            )
        )
        is_total = np.zeros(n, dtype=bool)
        if short.size:
            lowered = pc.utf8_lower(first_col.take(pa.array(short)))
            is_total[short] = pc.fill_null(
                pc.is_in(lowered, pa.array(sorted(SUMMARY_MARKERS))), False
            ).to_numpy(zero_copy_only=False)
        for i in np.flatnonzero(is_total & keep):
            reasons[i] = "total row"
        keep &= ~is_total
    # Trailing lines with a single filled cell in a wide table are footers.
    ncols = table.num_columns
    i = n - 1
    trailing = 0
    while (
        last
        and i >= 0
        and (not keep[i] or (ncols >= 3 and filled[i] == 1))
        and trailing < FOOTER_LINES
    ):
        if keep[i]:
            reasons[i] = "footer line"
            keep[i] = False
        i -= 1
        trailing += 1
    for j in range(max(0, n - skip_footer_rows) if last else n, n):
        if keep[j]:
            reasons[j] = "footer line (skip_footer_rows)"
            keep[j] = False
    if keep.all():
        last_data_row = int(raw.row_numbers[-1])
        if last:
            _footer_ragged(raw, last_data_row)
        return last_data_row
    for j in sorted(reasons):
        values = [str(table.column(c)[j]) for c in table.column_names if str(table.column(c)[j])]
        raw.skipped.append(SetAside(int(raw.row_numbers[j]), ",".join(values), reasons[j]))
    mask = pa.array(keep)
    raw.table = table.filter(mask)
    raw.row_numbers = raw.row_numbers[keep]
    if len(raw.row_numbers):
        last_data_row = int(raw.row_numbers[-1])
    if last:
        _footer_ragged(raw, last_data_row)
    return last_data_row


def _filled(col) -> np.ndarray:
    """Cells with something besides spaces, as a mask."""
    found = pc.not_equal(pc.utf8_trim_whitespace(col), "")
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _footer_ragged(raw: RawTable, last_data_row: int) -> None:
    """Short ragged lines after the last data row (e.g. "Reporting period …") are footers."""
    footers = [r for r in raw.ragged if r.row_number > last_data_row and r.cells <= 2]
    for r in footers:
        raw.ragged.remove(r)
        raw.skipped.append(SetAside(r.row_number, r.text, "footer line", r.cells))


def sheet_names(path: str | Path) -> list[str]:
    """The sheets of a workbook (any format), or [] for a text file or a workbook that cannot
    be read. The workbook is checked first, as calamine reads some parts whole on opening."""
    import python_calamine as cal

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(len(OLE2_MAGIC))
    if head != OLE2_MAGIC and (not head.startswith(b"PK\x03\x04") or not _workbook_kind(path)):
        return []
    try:
        checked_workbook(path, path.name)
        with open(path, "rb") as fh, cal.CalamineWorkbook.from_filelike(fh) as book:
            return list(book.sheet_names)
    except (UnusableFile, cal.CalamineError, ValueError, OSError):
        return []
