"""Field errors as the API server words them, and JSON-schema validation turned into them.

A rejected object is a ``422 Invalid`` Status whose ``details.causes`` carry one entry per field
(``reason`` FieldValueRequired / FieldValueInvalid / ..., ``field`` ``spec.replicas``, ``message``
``Invalid value: -1: must be greater than or equal to 0``) and whose message joins them:
``Deployment.apps "web" is invalid: spec.replicas: Invalid value: ...`` (several in brackets).
kubectl prints ``The Deployment "web" is invalid: <field>: <message>`` from the causes.

:func:`schema_errors` runs a ``jsonschema`` validator (the schemas of ``kubernetes-validate`` for
built-in kinds, a CRD's ``openAPIV3Schema`` for custom resources) and words each failure as
kube-openapi does for custom resources. :mod:`.semantics` holds the rules schemas cannot say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .apitypes import ApiError

Obj = dict[str, Any]

#: field.ErrorType -> (cause reason, how the message starts)
_REASONS = {
    "required": ("FieldValueRequired", "Required value"),
    "invalid": ("FieldValueInvalid", "Invalid value"),
    "type": ("FieldValueTypeInvalid", "Invalid value"),
    "unsupported": ("FieldValueNotSupported", "Unsupported value"),
    "forbidden": ("FieldValueForbidden", "Forbidden"),
    "toolong": ("FieldValueTooLong", "Too long"),
    "toomany": ("FieldValueTooMany", "Too many"),
    "duplicate": ("FieldValueDuplicate", "Duplicate value"),
}


@dataclass(frozen=True)
class FieldError:
    field: str
    kind: str  # a key of _REASONS
    detail: str = ""
    value: Any = None
    has_value: bool = False

    @property
    def body(self) -> str:
        """``Invalid value: "x": detail`` as field.Error.ErrorBody() words it."""
        head = _REASONS[self.kind][1]
        if self.kind in ("required", "forbidden", "toolong"):
            return f"{head}: {self.detail}" if self.detail else head
        if self.kind == "toomany":
            return f"{head}: {go_value(self.value)}: {self.detail}"
        if self.kind == "unsupported":
            return f"{head}: {go_value(self.value)}: {self.detail}" if self.detail else head
        if self.has_value:
            return f"{head}: {go_value(self.value)}: {self.detail}"
        return f"{head}: {self.detail}"

    def cause(self) -> Obj:
        return {"reason": _REASONS[self.kind][0], "message": self.body, "field": self.field}

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


def required(path: str, detail: str = "") -> FieldError:
    return FieldError(path, "required", detail)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError(path, "invalid", detail, value, True)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(path, "forbidden", detail)


def go_value(value: Any) -> str:
    """A value as Go's ``%v`` / ``%q`` prints it in a field error."""
    if isinstance(value, GoLiteral):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return go_map(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class GoLiteral:
    """A value already spelled as Go's ``%#v`` prints it (``v1.LabelSelector{...}``)."""

    def __init__(self, text: str) -> None:
        self.text = text


def go_map(m: dict[str, str]) -> str:
    inner = ", ".join(f"{json.dumps(k)}:{json.dumps(m[k])}" for k in sorted(m))
    return "map[string]string{" + inner + "}"


def go_selector(sel: Obj | None) -> GoLiteral:
    """A LabelSelector as ``%#v`` of v1.LabelSelector prints it."""
    sel = sel or {}
    labels = sel.get("matchLabels")
    ml = go_map(labels) if labels else "map[string]string(nil)"
    exprs = sel.get("matchExpressions")
    if exprs:
        parts = []
        for e in exprs:
            vals = e.get("values")
            vs = (
                "[]string{" + ", ".join(json.dumps(v) for v in vals) + "}"
                if vals
                else "[]string(nil)"
            )
            parts.append(
                f"v1.LabelSelectorRequirement{{Key:{json.dumps(e.get('key', ''))}, "
                f"Operator:{json.dumps(e.get('operator', ''))}, Values:{vs}}}"
            )
        me = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        me = "[]v1.LabelSelectorRequirement(nil)"
    return GoLiteral(f"v1.LabelSelector{{MatchLabels:{ml}, MatchExpressions:{me}}}")


def invalid_error(kind: str, group: str, name: str, errors: list[FieldError]) -> ApiError:
    """The 422 the API server answers for ``errors`` on ``kind`` ``name``."""
    qualified = f"{kind}.{group}" if group else kind
    if len(errors) == 1:
        joined = str(errors[0])
    else:
        joined = "[" + ", ".join(str(e) for e in errors) + "]"
    details: Obj = {"name": name, "kind": kind, "causes": [e.cause() for e in errors]}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details)


# --- names and labels (k8s.io/apimachinery/pkg/util/validation) ---------------------------------
DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + "(\\." + DNS1123_LABEL + ")*"
DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE = "(" + QUALIFIED_NAME + ")?"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    out = msg + " (e.g. "
    for i, ex in enumerate(examples):
        if i:
            out += " or "
        out += f"'{ex}', "
    return out + f"regex used for validation is '{fmt}')"


def _full(fmt: str, value: str) -> bool:
    return re.fullmatch(fmt, value) is not None


def dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not _full(DNS1123_SUBDOMAIN, value):
        errs.append(
            regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character",
                DNS1123_SUBDOMAIN,
                "example.com",
            )
        )
    return errs


def dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _full(DNS1123_LABEL, value):
        errs.append(
            regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                "or '-', and must start and end with an alphanumeric character",
                DNS1123_LABEL,
                "my-name",
                "123-abc",
            )
        )
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _full(DNS1035_LABEL, value):
        errs.append(
            regex_error(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                "start with an alphabetic character, and end with an alphanumeric character",
                DNS1035_LABEL,
                "my-name",
                "abc-123",
            )
        )
    return errs


def path_segment(value: str) -> list[str]:
    """RBAC names: any path segment."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def qualified_name(value: str) -> list[str]:
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in dns1123_subdomain(prefix)]
    else:
        return [
            regex_error(
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', "
                "and must start and end with an alphanumeric character",
                QUALIFIED_NAME,
                "MyName",
                "my.name",
                "123-abc",
            )
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _full(QUALIFIED_NAME, name):
        errs.append(
            "name part "
            + regex_error(
                "must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                "end with an alphanumeric character",
                QUALIFIED_NAME,
                "MyName",
                "my.name",
                "123-abc",
            )
        )
    return errs


def label_value(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _full(LABEL_VALUE, value):
        errs.append(
            regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character",
                LABEL_VALUE,
                "MyValue",
                "my_value",
                "12345",
            )
        )
    return errs


def labels_errors(labels: Any, path: str) -> list[FieldError]:
    out: list[FieldError] = []
    if not isinstance(labels, dict):
        return out
    for k, v in labels.items():
        out += [invalid(path, k, m) for m in qualified_name(str(k))]
        if isinstance(v, str):
            out += [invalid(path, v, m) for m in label_value(v)]
    return out


# --- JSON schema -> field errors (as kube-openapi words them for custom resources) -------------
def field_path(err: Any) -> str:
    """The error's instance path as a field path (``spec.containers[0].name``, map keys in
    brackets)."""
    inst = list(err.absolute_path)
    schema_path = list(err.absolute_schema_path)
    out = ""
    i = j = 0
    while j < len(schema_path) and i < len(inst):
        tok = schema_path[j]
        if tok == "properties" and j + 1 < len(schema_path) and schema_path[j + 1] == inst[i]:
            out += ("." if out else "") + str(inst[i])
            i += 1
            j += 2
            continue
        if tok in ("additionalProperties", "patternProperties"):
            out += f"[{inst[i]}]"
            i += 1
            j += 2 if tok == "patternProperties" else 1
            continue
        if tok in ("items", "prefixItems") and isinstance(inst[i], int):
            out += f"[{inst[i]}]"
            i += 1
        j += 1
    for k in range(i, len(inst)):  # what the schema path did not explain
        out += f"[{inst[k]}]" if isinstance(inst[k], int) else ("." if out else "") + str(inst[k])
    return out


_TYPE_NAMES = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    dict: "object",
    list: "array",
    type(None): "null",
}


def _schema_type(schema: Any) -> str:
    t = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "")
    return str(t or "")


def schema_error(err: Any) -> FieldError:
    """One jsonschema ValidationError worded as the API server words it."""
    path = field_path(err)
    v = err.validator
    val = err.instance
    where = f"{path} in body" if path else "body"
    if v == "required":
        missing = next(
            (
                m
                for m in err.validator_value
                if isinstance(err.instance, dict) and m not in err.instance
            ),
            "",
        )
        return required(f"{path}.{missing}" if path else missing)
    if v == "type":
        want = _schema_type(err.schema) or str(err.validator_value)
        got = _TYPE_NAMES.get(type(val), "object")
        return FieldError(
            path, "type", f'{where} must be of type {want}: "{got}"', val, has_value=True
        )
    if v == "enum":
        allowed = ", ".join(go_value(x) for x in err.validator_value)
        return FieldError(path, "unsupported", f"supported values: {allowed}", val, True)
    if v == "minimum":
        return invalid(
            path, val, f"{where} should be greater than or equal to {err.validator_value}"
        )
    if v == "maximum":
        return invalid(path, val, f"{where} should be less than or equal to {err.validator_value}")
    if v == "exclusiveMinimum":
        return invalid(path, val, f"{where} should be greater than {err.validator_value}")
    if v == "exclusiveMaximum":
        return invalid(path, val, f"{where} should be less than {err.validator_value}")
    if v == "minLength":
        return invalid(path, val, f"{where} should be at least {err.validator_value} chars long")
    if v == "maxLength":
        return FieldError(path, "toolong", f"may not be longer than {err.validator_value}")
    if v == "pattern":
        return invalid(path, val, f"{where} should match '{err.validator_value}'")
    if v == "minItems":
        return invalid(path, val, f"{where} should have at least {err.validator_value} items")
    if v == "maxItems":
        n = len(val) if isinstance(val, list) else 0
        return FieldError(path, "toomany", f"must have at most {err.validator_value} items", n)
    if v == "uniqueItems":
        return FieldError(path, "duplicate", "", val, True)
    if v == "multipleOf":
        return invalid(path, val, f"{where} should be a multiple of {err.validator_value}")
    return invalid(path, val, f"{where} {err.message}")


def schema_errors(validator: Any, obj: Obj) -> list[FieldError]:
    """Every failure of ``obj`` against ``validator``, in the order of their field paths."""
    errors = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    out: list[FieldError] = []
    for e in errors:
        if e.validator in ("oneOf", "anyOf") and e.context:
            e = min(e.context, key=lambda c: len(list(c.absolute_schema_path)))
        fe = schema_error(e)
        if fe not in out:
            out.append(fe)
    return out
