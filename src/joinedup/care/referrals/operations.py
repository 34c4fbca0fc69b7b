"""This sub-domain's FHIR $operations, declared once (decision 0314) and registered by care/install.py.

One instance operation on Task per step of a referral (steps.ACTIONS): `POST /fhir/Task/{id}/$referral-accept`,
`$referral-decline`, `$referral-request-information`, `$referral-give-information`, `$referral-redirect`,
`$referral-allocate`, `$referral-claim`, `$referral-first-contact`, `$referral-complete`, `$referral-cancel`. Each
takes a Parameters resource (`version`, the Task version the client saw, or an If-Match header instead; `note`; and
the step's own parameter) and answers the updated Task. A bad Parameters, a stale version (409), a step the
referral's state does not allow (409) or a caller who is not the receiving team or the sender (403) answer an
OperationOutcome, and nothing changes (decision 0501).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from joinedup.api.body import read_resource
from joinedup.api.deps import handle, services
from joinedup.api.operations import LOCAL_DEFINITIONS, Operation, Parameter
from joinedup.api.responses import fhir_response
from joinedup.fhir.errors import InvalidRequest

from .service import StepInput, take
from .steps import ACTIONS, Action

_VERSION = Parameter("version", "integer", "The Task's version the client saw (or send If-Match instead)")
_NOTE = Parameter("note", "string", "Text for the conversation on the referral (the sender and the receiver see it)")
_OWN: dict[str, tuple[Parameter, ...]] = {
    "decline": (Parameter("reason", "code", "Why it is declined: a referral-decline-reason code", min=1),),
    "redirect": (Parameter("service", "Reference", "The HealthcareService to redirect to", min=1),),
    "allocate": (Parameter("worker", "Reference", "The team member's PractitionerRole", min=1),),
    "first-contact": (Parameter("when", "dateTime", "When the first contact was made (now when absent)"),),
}
_VALUE_KEYS = {"version": ("valueInteger",), "note": ("valueString",), "reason": ("valueCode", "valueString"),
               "service": ("valueReference",), "worker": ("valueReference",), "when": ("valueDateTime",)}  # fmt: skip


def _values(body: dict[str, Any], action: Action) -> dict[str, Any]:
    if body.get("resourceType") != "Parameters":
        raise InvalidRequest("The body must be a Parameters resource", location="resourceType")
    known = {p.name for p in (_VERSION, _NOTE, *_OWN.get(action.name, ()))}
    found: dict[str, Any] = {}
    for index, parameter in enumerate(body.get("parameter") or []):
        name = parameter.get("name") if isinstance(parameter, dict) else None
        where = f"Parameters.parameter[{index}]"
        if name not in known:
            raise InvalidRequest(f"$referral-{action.name} takes no parameter '{name}'", location=where)
        value = next((parameter[k] for k in _VALUE_KEYS[str(name)] if k in parameter), None)
        if value is None:
            kinds = " or ".join(_VALUE_KEYS[str(name)])
            raise InvalidRequest(f"'{name}' needs {kinds}", location=f"{where}.value[x]")
        if isinstance(value, dict):
            value = str(value.get("reference") or "")
        found[str(name)] = value
    for parameter in _OWN.get(action.name, ()):
        if parameter.min and parameter.name not in found:
            raise InvalidRequest(f"$referral-{action.name} needs '{parameter.name}'", location="Parameters.parameter")
    return found


def _version(request: Request, values: dict[str, Any]) -> int:
    if "version" in values:
        version = values["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidRequest("'version' must be a positive integer", location="Parameters.parameter.valueInteger")
        return version
    digits = request.headers.get("if-match", "").replace("W/", "").strip('"')
    if digits.isdigit():
        return int(digits)
    raise InvalidRequest(
        "Name the Task version you saw: the 'version' parameter or an If-Match header", location="Parameters.parameter"
    )


def _when(values: dict[str, Any]) -> datetime | None:
    text = values.get("when")
    if text is None:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest("'when' must be a date and time", location="Parameters.parameter.valueDateTime") from None


def _handler(action: Action) -> Callable[..., Awaitable[Response]]:
    async def step(task_id: str, request: Request) -> Response:
        caller = handle(request)
        body = await read_resource(request, services(request).settings.max_request_bytes)
        values = _values(body, action)
        version = _version(request, values)
        given = StepInput(
            text=str(values.get("note") or ""),
            reason=str(values.get("reason") or ""),
            service=str(values.get("service") or ""),
            worker=str(values.get("worker") or ""),
            when=_when(values),
        )
        referral = await run_in_threadpool(take, caller, task_id, version, action.name, given)
        version_id = referral.version
        return fhir_response(referral.task, headers={"ETag": f'W/"{version_id}"'})

    step.__name__ = step.__qualname__ = f"referral_{action.name.replace('-', '_')}"
    return step


OPERATIONS: tuple[Operation, ...] = tuple(
    Operation(
        f"referral-{action.name}",
        ("Task",),
        "instance",
        "POST",
        (_VERSION, _NOTE, *_OWN.get(action.name, ())),
        action.capability,
        _handler(action),
        f"{LOCAL_DEFINITIONS}/Task-referral-{action.name}",
        f"A referral's step: {action.label.lower()} (the referral's Task; answers the updated Task)",
        id_name="task_id",
    )
    for action in ACTIONS.values()
)
