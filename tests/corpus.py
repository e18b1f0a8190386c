"""The bad-input corpus: exports as shops really send them, broken in every way we know.

`write_corpus(folder)` writes each case to a file and returns the cases: name, mapping preset,
and what must happen — `unusable` (refused with a message naming the file) or `stored` (with
at least `quarantined` rows set aside, each with row, column and reason). Run
`python -m tests.corpus FOLDER` to get the files to try by hand (add `--large` for the 200 MB
export that `write_large` makes).
"""

from __future__ import annotations

import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD = "Ticket ID,Agent,Created At,First Response At,Resolved At,Channel,CSAT,Handle Time,Comment"


def row(tid, agent="小美", created="2026-05-01 10:00", first="2026-05-01 10:05",
        resolved="2026-05-01 12:00", channel="chat", csat="5", handle="300", comment="好") -> str:  # fmt: skip
    return ",".join([tid, agent, created, first, resolved, channel, csat, handle, comment])


GOOD = [row(f"C{i}") for i in range(3)]


@dataclass(frozen=True)
class Case:
    name: str  # the file name
    preset: str
    outcome: str  # "unusable" or "stored"
    quarantined: int = 0  # at least this many rows set aside
    reason: str = ""  # a word the message or a quarantine reason must contain
    data: bytes = b""


def _csv(lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


def _xlsx(rows: list[list], title: str | None = None, merge: bool = False) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        if merge:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("tickets.csv", "\n".join([HEAD, *GOOD]))
    return buf.getvalue()


def _xlsx_with_cell(chars: int, letter: bytes = b"A", level: int = 9) -> bytes:
    """A valid workbook whose second row's Agent cell holds `chars` copies of `letter`,
    written in chunks so that the test never holds the cell in memory."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Ticket ID", "Agent", "Created At"])
    wb.active.append(["B1", "PLACEHOLDER", "2026-05-01 10:00"])
    plain = io.BytesIO()
    wb.save(plain)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, data)
                continue
            before, after = data.split(b"PLACEHOLDER")
            with dst.open(info.filename, "w", force_zip64=True) as part:
                part.write(before)
                chunk = letter * (8 << 20)
                for _ in range(chars // len(chunk)):
                    part.write(chunk)
                part.write(letter * (chars % len(chunk)))
                part.write(after)
    return out.getvalue()


def write_bomb(path: Path, gib: float = 2.0) -> None:
    """The zip bomb of the security review: a valid ~2 MB workbook whose one cell holds a
    string of `gib` GiB."""
    path.write_bytes(_xlsx_with_cell(int(gib * (1 << 30))))


def cases() -> list[Case]:
    wide_head = HEAD + "," + ",".join(f"extra{i}" for i in range(10_000))
    wide_row = GOOD[0] + "," + ",".join("x" for _ in range(10_000))
    daily_head = "客服昵称,日期,咨询人数,接待人数,询单人数,最终付款人数,客服销售额,旺旺回复率"
    return [
        # --- files that cannot be used at all
        Case("empty.csv", "demo_tickets", "unusable", reason="empty"),
        Case("header_only.csv", "demo_tickets", "unusable", reason="no rows", data=_csv([HEAD])),
        Case("blank_lines.csv", "demo_tickets", "unusable", data=b"\n\n\r\n  \n"),
        Case(
            "garbage.csv", "demo_tickets", "unusable", reason="binary", data=bytes(range(256)) * 40
        ),  # fmt: skip
        Case("zip_renamed.xlsx", "demo_tickets", "unusable", reason="zip", data=_zip()),
        Case(
            "report.csv",
            "demo_tickets",
            "unusable",
            reason="PDF",
            data=b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n",
        ),
        Case(
            "old_excel.xls",
            "demo_tickets",
            "unusable",
            reason=".xls",
            data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
        ),  # fmt: skip
        Case(
            "no_agent_column.csv",
            "demo_tickets",
            "unusable",
            reason="Agent",
            data=_csv(["Ticket ID,Created At", "T1,2026-05-01 10:00"]),
        ),  # fmt: skip
        # --- encodings and layout
        Case("utf8_bom.csv", "demo_tickets", "stored", data=b"\xef\xbb\xbf" + _csv([HEAD, *GOOD])),
        Case("gb18030.csv", "demo_tickets", "stored", data=_csv([HEAD, *GOOD], "gb18030")),
        Case("utf16.csv", "demo_tickets", "stored", data=_csv([HEAD, *GOOD], "utf-16")),
        Case("crlf.csv", "demo_tickets", "stored", data=_csv([HEAD, *GOOD], newline="\r\n")),
        Case(
            "semicolons.csv",
            "demo_tickets",
            "stored",
            data=_csv([HEAD.replace(",", ";"), *[g.replace(",", ";") for g in GOOD]]),
        ),  # fmt: skip
        Case(
            "tabs.tsv",
            "demo_tickets",
            "stored",
            data=_csv([HEAD.replace(",", "\t"), *[g.replace(",", "\t") for g in GOOD]]),
        ),  # fmt: skip
        Case(
            "title_row.csv",
            "demo_tickets",
            "stored",
            data=_csv(["工单导出（2026年5月）", HEAD, *GOOD]),
        ),
        Case(
            "footer_line.csv",
            "demo_tickets",
            "stored",
            data=_csv([HEAD, *GOOD, "Reporting period 2026-05-01 to 2026-05-31"]),
        ),  # fmt: skip
        Case(
            "quoted_newlines.csv",
            "demo_tickets",
            "stored",
            data=_csv([HEAD, row("Q1", comment='"第一行\n第二行, 还有逗号"'), *GOOD]),
        ),  # fmt: skip
        Case(
            "ragged_rows.csv",
            "demo_tickets",
            "stored",
            quarantined=0,
            data=_csv([HEAD, GOOD[0] + ",extra,fields", GOOD[1], GOOD[2][:20]]),
        ),  # fmt: skip
        Case(
            "xlsx_title_merged.xlsx",
            "demo_tickets",
            "stored",
            data=_xlsx([HEAD.split(","), *[g.split(",") for g in GOOD]], "工单导出", merge=True),
        ),  # fmt: skip
        Case(
            "ten_thousand_columns.csv", "demo_tickets", "stored", data=_csv([wide_head, wide_row])
        ),
        # --- values that are wrong
        Case(
            "response_before_creation.csv",
            "demo_tickets",
            "stored",
            1,
            "before",
            data=_csv([HEAD, row("R1", first="2026-05-01 09:00"), *GOOD]),
        ),  # fmt: skip
        Case(
            "negative_duration.csv",
            "demo_tickets",
            "stored",
            1,
            "negative",
            data=_csv([HEAD, row("N1", handle="-300"), *GOOD]),
        ),  # fmt: skip
        Case(
            "huge_duration.csv",
            "demo_tickets",
            "stored",
            1,
            "",
            data=_csv([HEAD, row("H1", handle="99999999999"), *GOOD]),
        ),  # fmt: skip
        Case(
            "rating_out_of_scale.csv",
            "demo_tickets",
            "stored",
            1,
            "",
            data=_csv([HEAD, row("S1", csat="9"), *GOOD]),
        ),  # fmt: skip
        Case(
            "bad_dates.csv",
            "demo_tickets",
            "stored",
            1,
            "",
            data=_csv([HEAD, row("D1", created="not a date"), *GOOD]),
        ),  # fmt: skip
        Case(
            "mixed_date_formats.csv",
            "demo_tickets",
            "stored",
            0,
            "",
            data=_csv(
                [
                    HEAD,
                    row(
                        "M1",
                        created="2026/05/02 10:00",
                        first="2026/05/02 10:01",
                        resolved="2026/05/02 11:00",
                    ),
                    *GOOD,
                ]
            ),
        ),  # fmt: skip
        Case(
            "missing_required.csv",
            "demo_tickets",
            "stored",
            1,
            "missing",
            data=_csv([HEAD, row("", agent=""), *GOOD]),
        ),  # fmt: skip
        Case(
            "duplicate_ids_conflicting.csv",
            "demo_tickets",
            "stored",
            0,
            "",
            data=_csv([HEAD, row("X1", agent="小美"), row("X1", agent="子轩"), *GOOD]),
        ),  # fmt: skip
        Case(
            "percent_above_100.csv",
            "qianniu_agent_daily",
            "stored",
            1,
            "",
            data=_csv(
                [
                    daily_head,
                    "小美,2026-05-01,10,9,5,2,300,150%",
                    "子轩,2026-05-01,10,9,5,2,300,95%",
                ],
                "gb18030",
            ),
        ),  # fmt: skip
        # --- text that must survive as text
        Case(
            "formula_injection.csv",
            "demo_tickets",
            "stored",
            data=_csv(
                [
                    HEAD,
                    row("F1", agent='=HYPERLINK("http://x")', comment="+SUM(A1)"),
                    row("F2", comment="@cmd"),
                    row("F3", comment="-1+1"),
                ]
            ),
        ),  # fmt: skip
        Case(
            "unicode_names.csv",
            "demo_tickets",
            "stored",
            data=_csv(
                [HEAD, row("U1", agent="小美🌸"), row("U2", agent="مريم"), row("U3", agent="Zoë")]
            ),
        ),  # fmt: skip
        # --- files made to exhaust memory or time: refused before they are parsed
        Case(
            "zip_bomb.xlsx",
            "demo_tickets",
            "unusable",
            reason="zip bomb",
            data=_xlsx_with_cell(64 << 20),
        ),
        Case(
            "huge_cell.xlsx",
            "demo_tickets",
            "unusable",
            reason="longer than the limit",
            data=_xlsx_with_cell(1_500_000, level=1),
        ),
        Case(
            "huge_cell.csv",
            "demo_tickets",
            "unusable",
            reason="longer than the limit",
            data=_csv([HEAD, row("H1", comment="x" * 1_500_000), *GOOD]),
        ),
        Case(
            "one_long_line.csv",
            "demo_tickets",
            "unusable",
            reason="first line is longer",
            data=b"x" * 3_000_000,
        ),
        Case(
            "too_many_columns.csv",
            "demo_tickets",
            "unusable",
            reason="columns",
            data=_csv(
                [HEAD + "," + ",".join(f"c{i}" for i in range(17_000)), GOOD[0] + "," * 17_000]
            ),
        ),
        Case(
            "long_cell.csv",
            "demo_tickets",
            "stored",
            data=_csv([HEAD, row("L1", comment="很长" * 60_000), *GOOD]),
        ),  # fmt: skip
    ]


def write_corpus(folder: Path) -> list[tuple[Case, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case in cases():
        path = folder / case.name
        path.write_bytes(case.data)
        written.append((case, path))
    return written


LARGE_BAD_EVERY = (
    100_000  # in the large export, every this-many-th ticket has a negative handle time
)


def write_large(path: Path, megabytes: int = 200) -> tuple[int, int]:
    """A ticket export of at least `megabytes` MB, written in blocks; every
    `LARGE_BAD_EVERY`-th ticket is broken. Returns (tickets, broken tickets)."""
    agents = ["小美", "阿杰", "小王", "若曦", "志强", "子轩", "Lily", "Ahmed"]
    written = tickets = broken = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        written += out.write(HEAD + "\n")
        while written < megabytes * 1_000_000:
            block = []
            for i in range(tickets, tickets + 10_000):
                day = f"2026-{1 + i % 10:02d}-{1 + i % 28:02d}"
                bad = i % LARGE_BAD_EVERY == LARGE_BAD_EVERY - 1
                broken += bad
                block.append(row(f"L{i:08d}", agent=agents[i % len(agents)], created=f"{day} 09:{i % 60:02d}",
                                 first=f"{day} 10:{i % 60:02d}", resolved=f"{day} 16:{i % 60:02d}",
                                 csat=str(1 + i % 5), handle="-5" if bad else str(60 + i % 900),
                                 comment="物流很快，客服耐心" if i % 3 else "退款太慢"))  # fmt: skip
            tickets += len(block)
            written += out.write("\n".join(block) + "\n")
    return tickets, broken


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--large"]
    out = Path(args[0] if args else "corpus")
    for case, path in write_corpus(out):
        print(f"{path}  ({case.outcome})")
    if "--large" in sys.argv:
        tickets, broken = write_large(out / "large_200mb.csv")
        print(f"{out / 'large_200mb.csv'}  ({tickets:,} tickets, {broken} broken)")
