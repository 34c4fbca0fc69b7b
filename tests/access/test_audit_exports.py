"""A bulk export names in the audit every person whose records its files include, so each of them sees it in their
access log (decision 0312); through the real app on both databases."""

from __future__ import annotations

import re
import time

import orjson
from fastapi.testclient import TestClient

from joinedup.access.audit.exports import ACTION
from joinedup.access.audit.verify import verify
from joinedup.access.handle import CallerHandle
from joinedup.fhir.patient_references import patients_in
from joinedup.store.export import ExportJobs

from .conftest import GP
from .test_web_governance import PASSWORD, _sign_in


def _finished(gp: CallerHandle, job_id: str) -> None:
    for _ in range(400):
        status = gp.export_status(job_id)
        if status.status != "in-progress":
            assert status.status == "complete", status.error
            return
        time.sleep(0.05)
    raise AssertionError("the export did not finish")


def test_an_export_names_everyone_it_included_and_they_see_it(web: TestClient) -> None:
    gate = web.app.state.services.gate  # type: ignore[attr-defined]
    gp: CallerHandle = gate.for_caller(GP)
    job_id = gp.export("system", (), None, None, "/fhir/$export")
    _finished(gp, job_id)
    exports: ExportJobs = gate._exports  # the files as written, read back without the handle's audit

    in_files: set[str] = set()
    for path in (exports.export_dir / job_id).glob("*.ndjson"):
        for line in path.read_bytes().splitlines():
            resource = orjson.loads(line)
            in_files |= patients_in(resource["resourceType"], resource["id"], line)
    recorded = [e for e in gate.audit.entries() if e.action == ACTION]
    assert in_files and {p for e in recorded for p in e.patients} == in_files
    assert {(e.user, e.role, e.organisation) for e in recorded} == {(GP.user, GP.role, GP.organisation)}
    assert all(e.what == [f"export-job/{job_id}"] and e.detail["people"] == len(in_files) for e in recorded)
    assert verify(gate._store.engine).ok

    everyone = {f"pat-{n}" for n in range(12)}  # the web fixture's place
    included, left_out = sorted(in_files & everyone)[0], sorted(everyone - in_files)[0]
    for patient_id in (included, left_out):
        username = patient_id.replace("-", "")
        gate.accounts.create(username, PASSWORD, "Resident", f"Patient/{patient_id}", "resident", None, None)
        assert _sign_in(web, username, PASSWORD) == 303
        log = web.get("/my-access-log").text
        said = "included your records in a bulk export" in log
        assert said == (patient_id == included), patient_id
        if said:
            row = log[log.rindex("<tr", 0, log.index("included your records")) :]
            row = row[: row.index("</tr>")]
            assert f"GP ({GP.organisation})" in row and re.search(r">\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d<", row)
        web.post("/sign-out")
