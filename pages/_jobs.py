"""Work run off the page's script thread, with its progress shown until it is done.

A job lives in the session under a key, so the person can go on using the app meanwhile and
come back to its result; `lib.core.background.Job` does the work, this file only draws it.
"""

from __future__ import annotations

import streamlit as st

from lib.core import background as jobs
from lib.core import settings
from pages._text import t


def background(key: tuple, work=None, label: str = ""):
    """Run `work(progress)` off the script thread, kept in the session under `key`.

    Returns the finished `lib.core.background.Job` (its `result`, or its `error`), or None while it
    runs: the page then shows a progress bar that updates itself, and reruns when the work is
    done. Short work (up to the setting `upload_wait_s`) ends within the run that started it and
    shows no bar. With `work` None, only a job already started under `key` is looked at."""
    running = st.session_state.setdefault("jobs", {})
    job = running.get(key)
    if job is None:
        if work is None:
            return None
        job = running[key] = jobs.Job(work, label)
        job.wait(settings.get("upload_wait_s"))
    if job.done:
        return job
    _watch(key)
    return None


def forget_jobs(keep) -> None:
    """Drop finished jobs whose key `keep(key)` refuses (another file, an older choice)."""
    running = st.session_state.get("jobs", {})
    for key in [k for k, job in running.items() if job.done and not keep(k)]:
        del running[key]


@st.fragment(run_every=0.5)
def _watch(key: tuple) -> None:
    job = st.session_state.get("jobs", {}).get(key)
    if job is None:
        return
    if job.done:
        st.rerun()  # the whole page, which now shows the result
    st.progress(job.fraction, text=job.message or t("upload.working"))
    st.caption(t("upload.working_since", seconds=f"{job.seconds:.0f}"))


if __name__ == "__main__":  # opened by address as a page (a fresh server lists pages/ once)
    st.switch_page("app.py")
