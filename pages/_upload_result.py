"""Upload-page parts: what a stored upload shows (counts, notes, rows set aside) and the table of
a file's problems. Text from the file is escaped (`safe`) like everywhere else."""

import pandas as pd
import streamlit as st

from lib.core.i18n import message
from lib.ingest.pipeline import WHOLE_ROW, quarantine_report
from lib.present import export
from lib.present.views import quarantine_for_people
from pages._ui import con, lang, listing, safe, t


def error_table(errors) -> pd.DataFrame:
    return pd.DataFrame(
        [(e.row, message(e.column, lang()) if e.column == WHOLE_ROW else e.column,
          message(e.reason, lang()), "–" if e.value is None else e.value) for e in errors],
        columns=[t("upload.col_row"), t("upload.col_column"), t("upload.col_reason"),
                 t("upload.col_value")],
    )  # fmt: skip


def show_result(result, who) -> None:
    """What an upload stored: the counts that add up, notes, and the rows set aside."""
    m = st.columns(4)
    m[0].metric(t("upload.metric_read"), f"{result.rows_read:,}")
    m[1].metric(t("upload.metric_accepted"), f"{result.accepted:,}")
    m[2].metric(t("upload.metric_duplicates"), f"{result.duplicates:,}")
    m[3].metric(t("upload.metric_quarantined"), f"{result.quarantined:,}")
    st.success(t("upload.result", **{k: f"{v:,}" if isinstance(v, int) else safe(v)
                                     for k, v in result.to_json().items()}))  # fmt: skip
    if result.skipped_rows:
        st.caption(t("upload.adds_up_skipped", total=f"{result.rows_read:,}",
                     skipped=f"{result.skipped_rows:,}"))  # fmt: skip
    else:
        st.caption(t("upload.adds_up", total=f"{result.rows_read:,}"))
    if result.skipped:
        kinds = [t("upload.skipped_kind" if count > 1 else "upload.skipped_kind_one",
                   kind=message(reason, lang()),
                   rows=listing([*map(str, rows)] + (["…"] if count > len(rows) else [])))
                 for reason, rows, count in result.skipped_by_reason()]  # fmt: skip
        st.caption(t("upload.skipped", count=len(result.skipped),
                     kinds=("；" if lang() == "zh" else "; ").join(kinds)))  # fmt: skip
    for note in result.notes:
        st.caption(f"{t('upload.notes')}: {safe(message(note, lang()))}")
    if result.errors:
        st.write(t("upload.errors"))
        st.dataframe(error_table(result.errors[:50]), hide_index=True, width="stretch")
        report = quarantine_report(con(), who, result.upload_id)
        st.download_button(t("upload.quarantine_download"),
                           export.csv_bytes(quarantine_for_people(report, lang())),
                           file_name=f"quarantine_{result.upload_id}.csv", mime="text/csv")  # fmt: skip


if __name__ == "__main__":  # opened by address as a page (a fresh server lists pages/ once)
    st.switch_page("app.py")
