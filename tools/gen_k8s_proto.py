"""Generate opsconsole/sandbox/wire/k8s_proto.json from the protobuf IDL lines in tools/k8s_proto.

Not needed at run time: the sandbox loads only the generated JSON. Run after changing a .proto file
or pointers.txt:

    python tools/gen_k8s_proto.py            # writes the JSON, prints what it checked

The IDL gives field numbers and wire types. Two facts the IDL does not carry come from elsewhere:
- the JSON names and "required" lists come from the Kubernetes OpenAPI schemas shipped by the
  kubernetes-validate package (a proto field whose name is not a schema property is an inlined Go
  struct, or a field whose proto name differs in case from its JSON name, e.g. ``aPIGroup``);
- which scalars are Go pointers comes from tools/k8s_proto/pointers.txt (see its header).
Every proto field is checked against the schema of its message; a mismatch fails the generation.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "k8s_proto"
OUT = HERE.parent / "opsconsole" / "sandbox" / "wire" / "k8s_proto.json"
SCHEMA_VERSION = "v1.37.0"  # the newest schemas: the IDL is of the same generation

SCALARS = {"string", "bytes", "int32", "int64", "uint32", "uint64", "bool", "double", "float"}
#: messages with their own JSON form (Go types with custom marshalling)
SPECIAL = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "microtime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "rawjson",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "rawjson",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstring",
}
#: kinds the OpenAPI schemas carry no x-kubernetes-group-version-kind for
EXTRA_KINDS = {
    "v1/APIVersions": "k8s.io.apimachinery.pkg.apis.meta.v1.APIVersions",
    "v1/APIGroupList": "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroupList",
    "v1/APIGroup": "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroup",
    "v1/APIResourceList": "k8s.io.apimachinery.pkg.apis.meta.v1.APIResourceList",
    "meta.k8s.io/v1/WatchEvent": "k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "meta.k8s.io/v1/PartialObjectMetadata": (
        "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata"
    ),
    "meta.k8s.io/v1/PartialObjectMetadataList": (
        "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList"
    ),
}

FIELD = re.compile(r"^\s*(optional|repeated)\s+(\S+)\s+(\w+)\s*=\s*(\d+)\s*;")
MAP = re.compile(r"^\s*map<\s*(\w+)\s*,\s*(\S+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")


def parse(path: Path) -> tuple[dict, dict, set[str]]:
    """One .proto file -> ({message: [fields]}, source header, nullable wrapper messages)."""
    package = ""
    header: list[str] = []
    messages: dict[str, list[dict]] = {}
    wrappers: set[str] = set()
    current: str | None = None
    nullable = False
    for line in path.read_text().splitlines():
        s = line.strip()
        if s.startswith("//"):
            if current is None and not messages and "+protobuf" not in s:
                header.append(s[2:].strip())
            nullable = nullable or "+protobuf.nullable=true" in s
            continue
        if s.startswith("package "):
            package = s[len("package ") : -1].strip()
        elif s.startswith("message "):
            current = f"{package}.{s.split()[1]}"
            messages[current] = []
            if nullable:
                wrappers.add(current)
            nullable = False
        elif s == "}":
            current = None
        elif current is not None and s:
            m = MAP.match(s)
            if m:
                key, value, name, no = m.groups()
                messages[current].append(
                    {"no": int(no), "name": name, "label": "map", "key": key, "type": value}
                )
                continue
            m = FIELD.match(s)
            if not m:
                raise SystemExit(f"{path.name}: cannot read line {line!r}")
            label, typ, name, no = m.groups()
            messages[current].append({"no": int(no), "name": name, "label": label, "type": typ})
    for fields in messages.values():
        for f in fields:
            f["type"] = qualify(f["type"], package)
    return messages, {"file": path.name, "header": " ".join(header)}, wrappers


def qualify(typ: str, package: str) -> str:
    if typ in SCALARS:
        return typ
    if typ.startswith("."):
        return typ[1:]
    if typ.startswith("k8s.io."):
        return typ
    return f"{package}.{typ}"


def definition(defs: dict, message: str) -> dict | None:
    return (
        defs.get("io.k8s." + message[len("k8s.io.") :]) if message.startswith("k8s.io.") else None
    )


def dump(out: dict) -> str:
    """JSON with one field of a message a line (reviewable diffs, a quarter of indent=1's size)."""
    parts = []
    for key, value in out.items():
        if key != "messages":
            parts.append(f"{json.dumps(key)}: {json.dumps(value, indent=1)}")
            continue
        msgs = []
        for name, fields in value.items():
            body = ",\n".join("  " + json.dumps(f, separators=(",", ":")) for f in fields)
            msgs.append(f"{json.dumps(name)}: [\n{body}\n ]")
        parts.append('"messages": {\n' + ",\n".join(msgs) + "\n}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def json_names(messages: dict, message: str) -> set[str]:
    """The JSON property names of a message, with inlined structs expanded."""
    out: set[str] = set()
    for f in messages[message]:
        if f.get("inline"):
            out |= json_names(messages, f["type"])
        else:
            out.add(f.get("json", f["name"]))
    return out


def main() -> None:
    import kubernetes_validate

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    defs = json.loads((root / f"{SCHEMA_VERSION}-local" / "_definitions.json").read_text())["$defs"]
    # "required" (a JSON tag without omitempty) from every version shipped: a Go JSON tag never
    # changes, but newer schemas stopped listing some (PriorityClass.value, PDB status counts)
    ever_required: dict[str, set[str]] = {}
    for version_dir in sorted(root.glob("v*-local")):
        for name, d in json.loads((version_dir / "_definitions.json").read_text())["$defs"].items():
            ever_required.setdefault(name, set()).update(d.get("required") or ())
    messages: dict[str, list[dict]] = {}
    sources = []
    wrappers: set[str] = set()
    for path in sorted(SRC.glob("*.proto")):
        msgs, src, wrap = parse(path)
        messages.update(msgs)
        sources.append(src)
        wrappers |= wrap
    pointers = {
        line.strip()
        for line in (SRC / "pointers.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    problems: list[str] = []
    notes: list[str] = []
    used_pointers: set[str] = set()
    for message, fields in messages.items():
        d = definition(defs, message)
        props = (d or {}).get("properties") or {}
        required = ever_required.get("io.k8s." + message[len("k8s.io.") :], set())
        by_lower = {k.lower(): k for k in props}
        for f in fields:
            t = f["type"]
            if t not in SCALARS and t not in messages:
                problems.append(f"{message}.{f['name']}: unknown type {t}")
            qual = f"{message}.{f['name']}"
            if qual in pointers:
                f["pointer"] = True
                used_pointers.add(qual)
            if message in SPECIAL or message in wrappers or d is None:
                f["json"] = f["name"]
                continue
            if f["name"] in props:
                f["json"] = f["name"]
            elif f["name"].lower() in by_lower:
                f["json"] = by_lower[f["name"].lower()]
            elif (
                t in messages
                and f["label"] == "optional"
                and {g["name"].lower() for g in messages[t]} <= set(by_lower)
            ):
                f["inline"] = True  # an embedded Go struct: its fields are the parent's
                f["json"] = ""
            else:  # a field newer (or older) than the schemas: its proto name is its JSON name
                notes.append(f"{qual}: not in the {SCHEMA_VERSION} schema")
                f["json"] = f["name"]
            if f["json"] in required:
                f["required"] = True
    for message in messages:
        d = definition(defs, message)
        if d is None or message in SPECIAL:
            continue
        names = json_names(messages, message)
        extra = set(d.get("properties") or ()) - names - {"apiVersion", "kind"}
        if extra:
            notes.append(f"{message}: schema properties not in the IDL: {sorted(extra)}")
    for p in sorted(pointers - used_pointers):
        problems.append(f"pointers.txt: {p} is no field")
    kinds: dict[str, str] = dict(EXTRA_KINDS)
    for name, d in defs.items():
        message = "k8s.io." + name[len("io.k8s.") :]
        if message not in messages:
            continue
        for gvk in d.get("x-kubernetes-group-version-kind") or ():
            gv = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            kinds.setdefault(f"{gv}/{gvk['kind']}", message)
    for message, fields in messages.items():
        for f in fields:
            if f.get("inline"):
                d = definition(defs, message) or {}
                missing = json_names(messages, f["type"]) - set(d.get("properties") or ())
                if missing:
                    problems.append(f"{message}.{f['name']}: inlined fields not in the schema")
    print("\n".join(f"note: {n}" for n in notes))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        raise SystemExit(f"{len(problems)} problems")
    out = {
        "_about": (
            "Generated by tools/gen_k8s_proto.py from tools/k8s_proto/*.proto (the message and "
            "field lines of the Kubernetes protobuf IDL, sources below) and pointers.txt; JSON "
            f"names from the kubernetes-validate {SCHEMA_VERSION} schemas, required fields from "
            "all of its versions. Do not edit by hand."
        ),
        "_sources": sources,
        "special": SPECIAL,
        "wrappers": sorted(wrappers),
        "kinds": dict(sorted(kinds.items())),
        "messages": {
            m: [
                {k: v for k, v in f.items() if k != "name" or v != f.get("json")}
                for f in sorted(fs, key=lambda f: f["no"])
            ]
            for m, fs in sorted(messages.items())
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(dump(out))
    nfields = sum(len(fs) for fs in messages.values())
    print(f"{OUT}: {len(messages)} messages, {nfields} fields, {len(kinds)} kinds")


if __name__ == "__main__":
    main()
