"""Upload page: pick a file and a mapping (preset or built here), preview, store, review."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from lib.app import backup, intake
from lib.core import errors
from lib.core.errors import UnusableFile
from lib.core.i18n import message
from lib.ingest import mapping as mappings
from lib.ingest.pipeline import preview, quarantine_report
from lib.ingest.reader import read_table, sheet_names
from lib.present import export
from lib.present.views import column_names, stored_tables, upload_log
from pages._accounts import link_section, scope_inputs
from pages._mapping_builder import build
from pages._ui import con, guard, lang, safe, t

who = guard("upload")
st.header(t("upload.header"))
st.write(t("upload.intro"))
# Every workbook format the reader knows: .xlsx, .xls (also one named .xlsx), .xlsb, .ods.
upload = st.file_uploader(t("upload.file"), type=["csv", "tsv", "txt", "xlsx", "xls", "xlsb", "ods"],
                          help=t("upload.file_help"))  # fmt: skip
st.caption(t("upload.limit", mb=st.get_option("server.maxUploadSize")))


def saved_copy(file) -> Path:
    """The uploaded bytes in a temporary file, written once per upload."""
    cache = st.session_state.setdefault("upload_files", {})
    if file.file_id not in cache:
        suffix = Path(file.name).suffix or ".csv"
        with tempfile.NamedTemporaryFile(delete=False, suffix=suffix) as fh:
            fh.write(file.getbuffer())
        cache[file.file_id] = Path(fh.name)
    return cache[file.file_id]


def error_table(errors) -> pd.DataFrame:
    return pd.DataFrame(
        [(e.row, e.column, message(e.reason, lang()), e.value) for e in errors],
        columns=[t("upload.col_row"), t("upload.col_column"), t("upload.col_reason"),
                 t("upload.col_value")],
    )  # fmt: skip


def save_box(built) -> None:
    """Save the built mapping in the store (a new version of its name), or download it."""
    why = st.text_input(t("builder.why"), key="mapping_why")
    a, b = st.columns(2)
    if a.button(t("upload.save_mapping")):
        try:
            version = mappings.save(con(), who, built, why)
            st.success(t("upload.saved_mapping", name=safe(built.name), version=version))
        except errors.MappingSaveError as exc:
            st.error(safe(message(str(exc), lang())))
    b.download_button(t("builder.export"), built.to_yaml().encode("utf-8"),
                      file_name=f"{built.name}.yaml", mime="application/x-yaml")  # fmt: skip


if upload is not None:
    path = saved_copy(upload)
    sheets = sheet_names(path)
    sheet = st.selectbox(t("upload.sheet"), sheets) if len(sheets) > 1 else None
    try:
        head = read_table(path, file_name=upload.name, sheet=sheet, max_rows=1000)
        headers = head.headers
    except UnusableFile as exc:
        st.error(t("upload.unusable", message=safe(message(str(exc), lang()))))
        st.stop()
    suggested = mappings.suggest_presets(headers)
    st.caption(t("upload.suggested", names=", ".join(suggested)) if suggested
               else t("upload.no_suggestion"))  # fmt: skip
    names = mappings.preset_names() + list(mappings.saved(con()))
    if st.toggle(t("upload.mode_build"), key="build_mapping") or not names:
        chosen = build(headers, head.table)
        if chosen is not None:
            save_box(chosen)
    else:
        default = names.index(suggested[0]) if suggested else 0
        chosen = mappings.load(st.selectbox(t("upload.preset"), names, index=default), con())
        st.caption(chosen.describe(lang()))
    if chosen is None:
        st.stop()
    scope = scope_inputs(chosen, headers, upload.name)
    try:
        pv = preview(path, chosen, sheet=sheet, limit=10, file_name=upload.name, con=con(),
                     scope=scope)  # fmt: skip
    except UnusableFile as exc:
        st.error(t("upload.unusable", message=safe(message(str(exc), lang()))))
        st.stop()
    if pv.problem:
        st.error(t("upload.unusable", message=safe(message(pv.problem, lang()))))
        st.stop()
    st.subheader(t("upload.preview"))
    st.dataframe(
        column_names(pv.rows, chosen.kind, lang()),
        hide_index=True,
        placeholder="–",
        width="stretch",
    )
    if pv.errors:
        st.warning(t("upload.preview_errors"))
        st.dataframe(error_table(pv.errors), hide_index=True, width="stretch")
    if st.button(t("upload.store"), type="primary"):
        bar = st.progress(0.0, text=t("upload.storing"))

        def step(fraction, note):
            bar.progress(
                min(fraction, 1.0), text=t("upload.alerts") if note == intake.ALERTS_STEP else note
            )

        upload_item = intake.Upload(path, chosen, sheet=sheet, file_name=upload.name, scope=scope)
        [result] = intake.store_uploads(con(), who, [upload_item], progress=step)
        if isinstance(result, UnusableFile):
            st.error(t("upload.unusable", message=safe(message(str(result), lang()))))
            st.stop()
        bar.empty()
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
            kinds = ", ".join(sorted({message(s.reason, lang()) for s in result.skipped}))
            st.caption(t("upload.skipped", count=len(result.skipped), kinds=kinds))
        for note in result.notes:
            st.caption(f"{t('upload.notes')}: {safe(message(note, lang()))}")
        if result.errors:
            st.write(t("upload.errors"))
            st.dataframe(error_table(result.errors[:50]), hide_index=True, width="stretch")
            report = quarantine_report(con(), who, result.upload_id)
            st.download_button(t("upload.quarantine_download"),
                               export.csv_bytes(report),
                               file_name=f"quarantine_{result.upload_id}.csv", mime="text/csv")  # fmt: skip

link_section(who)

if st.toggle(t("builder.import"), key="import_toggle"):  # one file picker until asked for
    given = st.file_uploader(t("builder.import_file"), type=["yaml", "yml"], key="import_mapping")
    if given is not None and st.button(t("builder.import_button")):
        try:
            done = mappings.import_yaml(con(), who, given.getvalue().decode("utf-8"))
            st.success(t("builder.imported", name=safe(done.name)))
        except (errors.MappingError, errors.MappingSaveError, UnicodeDecodeError) as exc:
            st.error(safe(message(str(exc), lang())))

st.subheader(t("overview.tables"))
if st.button(t("backup.now"), icon=":material/backup:", key="backup_now"):
    try:
        st.success(t("backup.done", folder=str(backup.backup(con(), viewer=who))))
    except errors.BackupError as exc:
        st.error(str(exc))
st.dataframe(stored_tables(con(), lang()), hide_index=True, width="stretch")

st.subheader(t("upload.history"))
st.dataframe(upload_log(con(), who, lang()), hide_index=True, width="stretch")
everything = quarantine_report(con(), who)
if len(everything):
    st.download_button(t("upload.all_quarantine"), export.csv_bytes(everything),
                       file_name="quarantine_all.csv", mime="text/csv")  # fmt: skip
