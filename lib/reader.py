"""Read an export file (CSV, TSV or XLSX) into a table of raw text with source row numbers.

Real exports are untidy: GB18030 or UTF-16 instead of UTF-8, a title line above the header,
a "Reporting period …" or 合计 line below the data, blank lines, cells with line breaks.
`read_table` sniffs the file type from its bytes (not its name), detects the encoding and
delimiter, finds the header row (using the mapping's expected headers when given), and
returns every data row as text with the row number a person sees in Excel or an editor.
Footer, total and blank lines are set aside and reported; rows with the wrong number of cells
are returned separately so ingestion can quarantine them. A file that is not a table at all
raises `UnusableFile` with a message saying what was found.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lib import settings

SAMPLE_BYTES = 1 << 20
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


class UnusableFile(Exception):
    """The file cannot be read as a table; the message says why, for the person uploading."""


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
    file_type: str  # csv | xlsx
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
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnusableFile(
            f"{name}: this is an old-style Excel .xls workbook. Open it in Excel or WPS and "
            "save it as .xlsx or CSV, then upload again."
        )
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
        scores = [sum(normalise_header(c) in expected for c in row if c) for row in rows]
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
    path: Path, name: str, encoding: str | None, expected, header_row, max_rows=None
) -> RawTable:
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
    headers = _dedupe(first[idx])
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

    def attempt(threads: bool) -> pa.Table:
        ragged_raw.clear()
        if isinstance(source, pa.BufferReader):
            source.seek(0)
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(
                use_threads=threads,
                skip_rows=header_line,
                column_names=headers,
                encoding=enc if enc not in ("utf-8", "utf-8-sig") else "utf8",
                block_size=16 << 20,
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

    try:
        table = attempt(True)
        if ragged_raw:  # exact line numbers of odd rows need a single-threaded pass
            table = attempt(False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if "straddling" in str(exc):  # one row bigger than a read block
            raise UnusableFile(
                f"{name}: a row is longer than {(16 << 20) // 1_000_000} MB; cells may hold at "
                f"most {settings.get('max_cell_chars'):,} characters (setting "
                "SCORECARD_MAX_CELL_CHARS)."
            ) from None
        raise UnusableFile(f"{name}: the file could not be read as CSV ({exc}).") from None
    if max_rows is not None:
        table = table.slice(0, max_rows)
    first_data = header_line + 1
    odd_lines = sorted(n for n, _, _ in ragged_raw if n is not None)
    positions = np.array([k - j - first_data for j, k in enumerate(odd_lines)], dtype=np.int64)
    index = np.arange(table.num_rows, dtype=np.int64)
    row_numbers = first_data + index + np.searchsorted(positions, index, side="right")
    _check_cell_lengths(name, table, row_numbers)
    ragged = [
        SetAside(n or 0, t, f"row has {c} cell(s); the header has {len(headers)}", c)
        for n, t, c in ragged_raw
    ]
    return RawTable(
        name, table, row_numbers, headers, header_line, "csv", enc, ragged=ragged, notes=notes
    )


def _check_cell_lengths(name: str, table: pa.Table, row_numbers: np.ndarray) -> None:
    """Refuse a table with a cell over the limit, naming the first such cell."""
    max_cell = settings.get("max_cell_chars")
    for column in table.column_names:
        lengths = pc.utf8_length(table.column(column))
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > max_cell:
            index = pc.index(pc.greater(lengths, max_cell), True).as_py()
            raise _too_long(name, max_cell, int(row_numbers[index]), column)


def _line_of_record(lines: list[str], idx: int, delim: str) -> int:
    """1-based line where record `idx` ends (records may span lines inside quotes)."""
    reader = csv.reader(lines, delimiter=delim)
    for i, _ in enumerate(reader):
        if i == idx:
            return reader.line_num
    return idx + 1


# ---------------------------------------------------------------- XLSX


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        secs = v.total_seconds()
        return f"{int(secs // 3600)}:{int(secs % 3600 // 60):02d}:{secs % 60:02g}"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


_TEXT_RUN = 8 << 20  # bytes read at a time when a workbook part is scanned
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?"')


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


def _longest_text_over(stream, limit: int) -> bool:
    """Whether some text between two XML tags is longer than `limit` bytes, read in chunks so
    that a huge cell is found without ever being held in memory. Text cannot hold a raw '<',
    so the longest run without one bounds the longest cell."""
    pattern = re.compile(rb"<[^<]{%d,}" % (limit + 1))
    carry = 0  # length of the run still open at the end of the previous chunk
    while chunk := stream.read(_TEXT_RUN):
        first = chunk.find(b"<")
        if first == -1:
            carry += len(chunk)
            if carry > limit:
                return True
            continue
        if carry + first > limit or pattern.search(chunk, first):
            return True
        carry = len(chunk) - chunk.rfind(b"<") - 1
    return carry > limit


def check_workbook(path: Path, name: str) -> None:
    """Refuse a workbook that would take too much memory or time, before parsing it: its
    unpacked size, each part's compression ratio (a zip bomb packs gigabytes of one letter
    into a few MB), each sheet's declared size, and the longest cell. Limits: lib.settings."""
    limit_mb = settings.get("max_xlsx_unpacked_mb")
    ratio_limit = settings.get("max_xlsx_ratio")
    max_cell = settings.get("max_cell_chars")
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: the reader says what it is
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
        unpacked = sum(p.file_size for p in parts)
        if unpacked > limit_mb * 1_000_000:
            raise UnusableFile(
                f"{name}: the workbook unpacks to {unpacked / 1e6:,.0f} MB, more than the limit "
                f"of {limit_mb:,} MB (setting SCORECARD_MAX_XLSX_UNPACKED_MB). Save it as CSV, "
                "or split it into smaller files."
            )
        for part in parts:
            if not part.filename.startswith("xl/worksheets/") or not part.filename.endswith(".xml"):
                continue
            with book.open(part) as stream:
                found = _DIMENSION.search(stream.read(1 << 16))
            if found and found.group(4):
                rows, cols = int(found.group(4)), _column_number(found.group(3))
                _check_size(name, rows, cols)
        for part in parts:
            text_part = part.filename == "xl/sharedStrings.xml" or (
                part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml")
            )
            # A character takes 1–4 bytes in UTF-8 and an escaped one (&quot;) up to 6.
            if text_part and part.file_size > max_cell:
                with book.open(part) as stream:
                    if _longest_text_over(stream, 6 * max_cell):
                        raise _too_long(name, max_cell)


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


def _too_long(name: str, max_cell: int, row: int | None = None, column: str | None = None):
    where = f" (row {row}, column {column})" if row is not None else ""
    return UnusableFile(
        f"{name}: a cell{where} is longer than the limit of {max_cell:,} characters (setting "
        "SCORECARD_MAX_CELL_CHARS). Shorten it, or remove the column."
    )


def _read_xlsx(
    path: Path, name: str, sheet: str | None, expected, header_row, progress, max_rows=None
) -> RawTable:
    import openpyxl

    check_workbook(path, name)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        if zipfile.is_zipfile(path):
            raise UnusableFile(
                f"{name}: this is a zip archive, not an Excel workbook. Unzip it, or export "
                "the data as .xlsx or CSV."
            ) from None
        raise UnusableFile(f"{name}: the workbook could not be opened ({exc}).") from None
    try:
        sheets = wb.sheetnames
        if sheet is not None and sheet not in sheets:
            raise UnusableFile(
                f"{name}: there is no sheet '{sheet}'. Sheets in this workbook: {', '.join(sheets)}."
            )
        ws = wb[sheet] if sheet is not None else wb[sheets[0]]
        total = ws.max_row or 0
        rows: list[list[str]] = []
        max_cell = settings.get("max_cell_chars")
        for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if cells and max(map(len, cells)) > max_cell:
                j = max(range(len(cells)), key=lambda k: len(cells[k]))
                raise _too_long(name, max_cell, i, _column_letters(j + 1))
            rows.append(cells)
            if max_rows is not None and i >= HEADER_SCAN_ROWS + max_rows:
                break
            if progress and i % 20000 == 0 and total:
                progress(min(i / total, 1.0), f"reading row {i:,} of {total:,}")
    finally:
        wb.close()
    if not any(any(c.strip() for c in r) for r in rows):
        raise UnusableFile(f"{name}: sheet '{ws.title}' has no rows.")
    idx = header_row - 1 if header_row else find_header(rows[:HEADER_SCAN_ROWS], expected)
    header_cells = list(rows[idx])
    if idx > 0:  # a merged group header above: fill blank header cells from it
        above = rows[idx - 1]
        for j, h in enumerate(header_cells):
            if not h.strip() and j < len(above) and above[j].strip():
                header_cells[j] = above[j]
    width = max(len(header_cells), 1)
    while width > 1 and not header_cells[width - 1].strip():
        width -= 1  # trailing empty header cells are formatting, not columns
    _check_size(name, 0, width)
    headers = _dedupe(header_cells[:width])
    data, numbers, ragged = [], [], []
    for offset, r in enumerate(rows[idx + 1 :], start=idx + 2):
        extra = [c for c in r[width:] if c.strip()]
        if extra:
            ragged.append(
                SetAside(
                    offset,
                    ",".join(r),
                    f"row has values beyond the {width} header columns",
                    len([c for c in r if c.strip()]),
                )
            )
            continue
        data.append(r[:width] + [""] * (width - len(r[:width])))
        numbers.append(offset)
    columns = list(zip(*data)) if data else [[] for _ in headers]
    table = pa.table({h: pa.array(col, pa.string()) for h, col in zip(headers, columns)})
    notes = [f"header found on row {idx + 1}; rows above it were skipped"] if idx > 0 else []
    return RawTable(
        name,
        table,
        np.array(numbers, dtype=np.int64),
        headers,
        idx + 1,
        "xlsx",
        None,
        ws.title,
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
    path = Path(path)
    name = file_name or path.name
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise UnusableFile(f"{name}: the file could not be opened ({exc.strerror}).") from None
    kind = sniff_type(head, name)
    if kind == "xlsx":
        raw = _read_xlsx(path, name, sheet, expected_headers, header_row, progress, max_rows)
        if max_rows is not None:
            raw.table = raw.table.slice(0, max_rows)
            raw.row_numbers = raw.row_numbers[:max_rows]
    else:
        raw = _read_csv(path, name, encoding, expected_headers, header_row, max_rows)
    _set_aside_non_data(raw, skip_footer_rows)
    if raw.table.num_rows == 0 and not raw.ragged:  # a header, perhaps a footer: nothing to store
        raise UnusableFile(f"{name}: the file has no rows.")
    return raw


def _set_aside_non_data(raw: RawTable, skip_footer_rows: int) -> None:
    """Move blank rows, total rows and trailing footer lines out of the data."""
    table = raw.table
    n = table.num_rows
    if n == 0:
        _footer_ragged(raw, 0)
        return
    filled = np.zeros(n, dtype=np.int64)
    first_col = None
    for name in table.column_names:
        col = pc.utf8_trim_whitespace(table.column(name))
        filled += pc.not_equal(col, "").to_numpy(zero_copy_only=False).astype(np.int64)
    keep = filled > 0
    reasons = {i: "blank row" for i in np.flatnonzero(~keep)}
    # Total rows (合计/Total) in the first two columns are summaries, not records.
    for name in table.column_names[:2]:
        first_col = pc.utf8_lower(pc.utf8_trim_whitespace(table.column(name)))
        is_total = pc.is_in(first_col, pa.array(sorted(SUMMARY_MARKERS))).to_numpy(
            zero_copy_only=False
        )
        for i in np.flatnonzero(is_total & keep):
            reasons[i] = "total row"
        keep &= ~is_total
    # Trailing lines with a single filled cell in a wide table are footers.
    ncols = table.num_columns
    i = n - 1
    trailing = 0
    while i >= 0 and (not keep[i] or (ncols >= 3 and filled[i] == 1)) and trailing < 10:
        if keep[i]:
            reasons[i] = "footer line"
            keep[i] = False
        i -= 1
        trailing += 1
    for j in range(max(0, n - skip_footer_rows), n):
        if keep[j]:
            reasons[j] = "footer line (skip_footer_rows)"
            keep[j] = False
    if keep.all():
        _footer_ragged(raw, int(raw.row_numbers[-1]))
        return
    for j in sorted(reasons):
        values = [str(table.column(c)[j]) for c in table.column_names if str(table.column(c)[j])]
        raw.skipped.append(SetAside(int(raw.row_numbers[j]), ",".join(values), reasons[j]))
    mask = pa.array(keep)
    raw.table = table.filter(mask)
    raw.row_numbers = raw.row_numbers[keep]
    _footer_ragged(raw, int(raw.row_numbers[-1]) if len(raw.row_numbers) else 0)


def _footer_ragged(raw: RawTable, last_data_row: int) -> None:
    """Short ragged lines after the last data row (e.g. "Reporting period …") are footers."""
    footers = [r for r in raw.ragged if r.row_number > last_data_row and r.cells <= 2]
    for r in footers:
        raw.ragged.remove(r)
        raw.skipped.append(SetAside(r.row_number, r.text, "footer line", r.cells))


def sheet_names(path: str | Path) -> list[str]:
    """The sheets of a workbook, or [] for a text file."""
    path = Path(path)
    with open(path, "rb") as fh:
        if not fh.read(4).startswith(b"PK\x03\x04"):
            return []
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return []
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()
