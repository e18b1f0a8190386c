"""Upload page: pick a file and a mapping (preset or built here), preview, store, review.

Reading and storing run off the page's thread, with their progress shown, so a big workbook
never holds up the page."""

import tempfile
from pathlib import Path

import streamlit as st

from lib.app import backup, intake
from lib.core import errors
from lib.core.errors import UnusableFile
from lib.core.i18n import message
from lib.ingest import mapping as mappings
from lib.ingest.pipeline import preview, quarantine_report
from lib.ingest.reader import read_table, sheet_names
from lib.present import export
from lib.present.views import column_names, quarantine_for_people, stored_tables, upload_log
from pages._accounts import link_section, scope_inputs
from pages._jobs import background, forget_jobs
from pages._mapping_builder import build
from pages._ui import con, guard, lang, safe, t
from pages._upload_result import error_table, show_result

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


def unusable(job) -> bool:
    """Say why a file cannot be used when the job met an unusable file; other failures are
    raised again for the app to report."""
    if isinstance(job.error, UnusableFile):
        st.error(t("upload.unusable", message=safe(message(str(job.error), lang()))))
        return True
    job.outcome()
    return False


def upload_section(upload) -> None:
    """Read, map, preview and store one file. Reading and storing run off the page's thread
    (see `background`): a big workbook shows its progress while the rest of the app stays
    usable, and the result when it is done."""
    path, db, name, file_id = saved_copy(upload), con(), upload.name, upload.file_id
    forget_jobs(lambda key: key[1] == file_id)
    job = background(("sheets", file_id), lambda _: sheet_names(path), t("upload.reading"))
    if job is None:
        return
    sheets = job.outcome()
    sheet = st.selectbox(t("upload.sheet"), sheets) if len(sheets) > 1 else None
    job = background(("head", file_id, sheet), lambda progress: read_table(
        path, file_name=name, sheet=sheet, max_rows=1000, progress=progress),
        t("upload.reading"))  # fmt: skip
    if job is None or unusable(job):
        return
    head = job.result
    headers = head.headers
    suggested = mappings.suggest_presets(headers)
    names = mappings.preset_names() + list(mappings.saved(db))
    titles = {n: mappings.load(n, db).title(lang()) for n in names}  # pickers show words, not ids
    st.caption(t("upload.suggested", names=("、" if lang() == "zh" else "; ").join(titles[n] for n in suggested)) if suggested
               else t("upload.no_suggestion"))  # fmt: skip
    if st.toggle(t("upload.mode_build"), key="build_mapping") or not names:
        chosen = build(headers, head.table)
        if chosen is not None:
            save_box(chosen)
    else:
        default = names.index(suggested[0]) if suggested else 0
        chosen = mappings.load(st.selectbox(t("upload.preset"), names, index=default,
                                            format_func=titles.get), db)  # fmt: skip
        st.caption(chosen.describe(lang()))
    if chosen is None:
        return
    scope = scope_inputs(chosen, headers, name)
    choice = (file_id, sheet, chosen.to_yaml(), repr(scope))  # what a preview and a store use
    job = background(("preview", *choice), lambda _: preview(
        path, chosen, sheet=sheet, limit=10, file_name=name, con=db, scope=scope),
        t("upload.reading"))  # fmt: skip
    if job is None or unusable(job):
        return
    pv = job.result
    if pv.problem:
        st.error(t("upload.unusable", message=safe(message(pv.problem, lang()))))
        return
    st.subheader(t("upload.preview"))
    st.dataframe(column_names(pv.rows, chosen.kind, lang()), hide_index=True, placeholder="–",
                 width="stretch")  # fmt: skip
    if pv.errors:
        st.warning(t("upload.preview_errors"))
        st.dataframe(error_table(pv.errors), hide_index=True, width="stretch")

    def store(progress):
        def step(fraction, note):
            progress(fraction, t("upload.alerts") if note == intake.ALERTS_STEP else note)

        item = intake.Upload(path, chosen, sheet=sheet, file_name=name, scope=scope)
        [result] = intake.store_uploads(db, who, [item], progress=step)
        if isinstance(result, UnusableFile):
            raise result  # shown as the file's problem, as when reading
        return result

    key = ("store", *choice)
    earlier = st.session_state.get("jobs", {}).get(key)
    busy = bool(earlier and not earlier.done)  # never the same upload twice at once
    if st.button(t("upload.store"), type="primary", disabled=busy) and not busy:
        st.session_state["jobs"].pop(key, None)  # storing again: a new job
        job = background(key, store, t("upload.storing"))
        if job is None:
            st.rerun()  # still running: draw the page again, its Store button off meanwhile
    else:
        job = background(key)  # one already started: its progress, or its result
    if job is not None and not unusable(job):
        show_result(job.result, who)


if upload is not None:
    upload_section(upload)

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
    st.download_button(t("upload.all_quarantine"),
                       export.csv_bytes(quarantine_for_people(everything, lang())),
                       file_name="quarantine_all.csv", mime="text/csv")  # fmt: skip
