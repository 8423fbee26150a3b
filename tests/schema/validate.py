#!/usr/bin/env python3
"""validate.py: checks shakedown's JSON lines against docs/shakedown.schema.json.

Reads one JSON record per line from each FILE ('-' or no FILE: standard input) and validates every
line with jsonschema's Draft202012Validator (Debian package python3-jsonschema). Each failure is
printed as FILE:LINE: JSON-PATH: message. Beyond the schema, a line must be UTF-8, one JSON object
(no NaN/Infinity, no duplicate keys) and end with a newline, as shakedown writes it.

Options:
  --schema FILE     the schema (default: docs/shakedown.schema.json of this source tree)
  --time epoch|iso  every timestamp must have this form (the schema alone accepts either)
  --whole-run       each FILE is the whole output of one run: its last record, and only that one,
                    is the summary

The schema itself is checked against the draft 2020-12 meta-schema, which takes longer than
validating a small run: a schema that passed is remembered by the SHA-256 of its text (with the
--time change applied) in $XDG_CACHE_HOME/shakedown-validate (default ~/.cache), so the test
suite's hundred runs check each version of the schema once, and a changed schema is checked
again. Records are validated against the schema with its local $refs inlined (inline_refs) and,
when the record types exclude each other, against their own type's branch of the oneOf alone:
the same verdicts, in less than half the time.

Exit status: 0 every line is a valid record and there was at least one; 1 an invalid line, a line
that is not JSON, or no records at all (an empty output must not pass); 2 usage error, unreadable
file or schema, or jsonschema not installed.
"""
import argparse
import copy
import hashlib
import json
import os
import sys

MAX_MESSAGE = 300  # jsonschema quotes whole objects in some messages; keep each line readable

DEFAULT_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                              "docs", "shakedown.schema.json")


def fail_setup(message):
    print(f"validate.py: {message}", file=sys.stderr)
    sys.exit(2)


try:
    from jsonschema import Draft202012Validator
except ImportError:
    fail_setup("the jsonschema module is missing (Debian: apt-get install python3-jsonschema)")


def json_path(path):
    """$.orig.state, $.inputs[1].status: where in the record an error is."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def json_type(value):
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def shorten(message):
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 3] + "..."


# Keywords whose value is a schema, a list of schemas, or a map of names to schemas (draft
# 2020-12); the value of any other keyword is data (const, enum, required ...), never a schema.
SCHEMA_KEYWORDS = {"items", "additionalProperties", "not", "if", "then", "else", "contains",
                   "propertyNames", "unevaluatedItems", "unevaluatedProperties"}
SCHEMA_LIST_KEYWORDS = {"allOf", "anyOf", "oneOf", "prefixItems"}
SCHEMA_MAP_KEYWORDS = {"properties", "patternProperties", "dependentSchemas", "$defs"}
ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "$defs"}


class NotInlinable(Exception):
    pass


def inline_refs(schema):
    """The schema with every "$ref": "#/$defs/NAME" replaced by that definition: jsonschema
    resolves a $ref each time it meets one, most of its time on records like ours. The meaning
    is the same: a $ref alone becomes the definition, a $ref beside other keywords becomes
    "allOf": [definition] beside them (draft 2020-12 applies both). NotInlinable for any other
    $ref, or a definition that refers to itself."""
    defs = schema.get("$defs", {})

    def walk(node, inside):
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key in SCHEMA_KEYWORDS:
                out[key] = walk(value, inside)
            elif key in SCHEMA_LIST_KEYWORDS and isinstance(value, list):
                out[key] = [walk(v, inside) for v in value]
            elif key in SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
                out[key] = {name: walk(v, inside) for name, v in value.items()}
            elif key != "$ref":
                out[key] = value
        if "$ref" not in node:
            return out
        ref = node["$ref"]
        name = ref[len("#/$defs/"):] if isinstance(ref, str) else ""
        if not isinstance(ref, str) or not ref.startswith("#/$defs/") or name not in defs:
            raise NotInlinable(f"$ref {ref!r}")
        if name in inside:
            raise NotInlinable(f"{name} refers to itself")
        target = walk(defs[name], inside | {name})
        if not out:
            return target
        out["allOf"] = out.get("allOf", []) + [target]
        return out

    top = {key: value for key, value in schema.items() if key != "$defs"}
    return walk(top, frozenset())


def type_of_branch(branch):
    """The record type a oneOf branch (inlined) stands for, if it requires "type" to be one
    constant; else None."""
    const = branch.get("properties", {}).get("type", {})
    if "const" in const and "type" in branch.get("required", []):
        return const["const"]
    return None


class Checker:
    """The schema compiled once, plus one validator per record type for readable messages."""

    def __init__(self, schema_path, time_form):
        try:
            with open(schema_path, encoding="utf-8") as f:
                schema = json.load(f)
        except (OSError, ValueError) as e:
            fail_setup(f"cannot read schema {schema_path}: {e}")
        if time_form:
            schema = copy.deepcopy(schema)
            schema["$defs"]["timestamp"] = {"$ref": f"#/$defs/{time_form}_time"}
        check_schema_once(schema, schema_path)
        try:
            compiled = inline_refs(schema)
        except NotInlinable:
            compiled = schema
        checker = Draft202012Validator.FORMAT_CHECKER
        self.validator = Draft202012Validator(compiled, format_checker=checker)
        # The top level is oneOf over the record types, whose own errors jsonschema folds into
        # one "not valid under any of the given schemas". A record that names its type is
        # explained by the validator of that type alone.
        self.by_type = {}
        for branch in compiled.get("oneOf", []):
            kind = type_of_branch(branch) if "$ref" not in branch else None
            if kind is not None:
                single = {key: value for key, value in compiled.items() if key != "oneOf"}
                single["allOf"] = [branch]
                self.by_type[kind] = Draft202012Validator(single, format_checker=checker)
        # When every branch requires its own constant "type" and the top level says nothing
        # else, a record of type T is valid under the oneOf exactly when it is valid under T's
        # branch (every other branch rejects its "type"): that one validator decides alone.
        branches = compiled.get("oneOf", [])
        self.exclusive = (len(self.by_type) == len(branches) > 0
                          and set(compiled) <= ANNOTATIONS | {"oneOf"})

    def errors(self, record):
        """Messages ("path: what") for one parsed record; empty if it is valid."""
        kind = record.get("type") if isinstance(record, dict) else None
        own = self.by_type.get(kind) if isinstance(kind, str) else None
        if (own if self.exclusive and own else self.validator).is_valid(record):
            return []
        if not isinstance(record, dict):
            return [f"$: a record must be a JSON object, not {json_type(record)}"]
        if own is None:
            return [f"$.type: {json.dumps(kind)} is not a record type "
                    f"({', '.join(sorted(self.by_type))})"]
        found = sorted(own.iter_errors(record),
                       key=lambda e: [str(part) for part in e.absolute_path])
        if not found:  # valid as its own type, yet not under oneOf: report what the schema says
            found = list(self.validator.iter_errors(record))
        return [f"{json_path(e.absolute_path)}: {shorten(e.message)}" for e in found]


def checked_stamp(schema):
    """The file whose existence says this exact schema passed check_schema (None: no cache)."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(home):
        return None
    text = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
    name = hashlib.sha256(text).hexdigest()
    return os.path.join(home, "shakedown-validate", f"schema-ok-{name}")


def check_schema_once(schema, schema_path):
    """Draft202012Validator.check_schema, skipped for a schema already found valid."""
    stamp = checked_stamp(schema)
    if stamp and os.path.exists(stamp):
        return
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # jsonschema.SchemaError, with the offending keyword
        fail_setup(f"{schema_path} is not a valid draft 2020-12 schema: {shorten(str(e))}")
    if stamp:
        try:
            os.makedirs(os.path.dirname(stamp), mode=0o700, exist_ok=True)
            with open(stamp, "w", encoding="utf-8") as f:
                f.write(f"{schema_path}: valid draft 2020-12\n")
        except OSError:
            pass  # no cache: the next run checks the schema again


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def reject_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def parse(raw):
    """The record of one line (bytes, newline stripped), or raises ValueError with the reason."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 (byte {e.start}: {raw[e.start:e.start + 1]!r})") from None
    if not text.strip():
        raise ValueError("empty line")
    try:
        return json.loads(text, parse_constant=reject_constant,
                          object_pairs_hook=reject_duplicates)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON: {e}") from None


def check_stream(name, stream, checker, whole_run):
    """Validates every line of one input; returns (records, invalid records, run problems)."""
    records = invalid = run_problems = 0
    summaries = []  # line numbers of the summary records
    last_line = 0
    last_parsed = False  # whether the last line was JSON, so its type is known
    for number, raw in enumerate(stream, start=1):
        last_line = number
        records += 1
        problems = []
        if not raw.endswith(b"\n"):
            problems.append("$: the last line has no newline (output cut short?)")
        try:
            record = parse(raw.rstrip(b"\n"))
            last_parsed = True
        except ValueError as e:
            problems.append(f"$: {e}")
            last_parsed = False
        else:
            problems += checker.errors(record)
            if isinstance(record, dict) and record.get("type") == "summary":
                summaries.append(number)
        if problems:
            invalid += 1
            for p in problems:
                print(f"{name}:{number}: {p}")
    if whole_run and records:
        for number in summaries:
            if number != last_line:
                run_problems += 1
                print(f"{name}:{number}: $: a summary record before the end of the run")
        if last_parsed and last_line not in summaries:
            run_problems += 1
            print(f"{name}:{last_line}: $: the run does not end with a summary record")
    return records, invalid, run_problems


def main():
    ap = argparse.ArgumentParser(description="Validate shakedown JSON lines against the schema.")
    ap.add_argument("files", nargs="*", default=["-"], metavar="FILE")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--time", choices=["epoch", "iso"], dest="time_form")
    ap.add_argument("--whole-run", action="store_true")
    args = ap.parse_args()
    checker = Checker(args.schema, args.time_form)

    records = invalid = run_problems = 0
    for name in args.files:
        try:
            if name == "-":
                counts = check_stream("-", sys.stdin.buffer, checker, args.whole_run)
            else:
                with open(name, "rb") as f:
                    counts = check_stream(name, f, checker, args.whole_run)
        except OSError as e:
            fail_setup(f"cannot read {name}: {e.strerror}")
        records += counts[0]
        invalid += counts[1]
        run_problems += counts[2]

    if records == 0:
        print("validate.py: no records at all (an empty output is not a valid run)")
        return 1
    if invalid or run_problems:
        print(f"validate.py: FAILED: {invalid} of {records} record(s) invalid"
              + (f", {run_problems} problem(s) with the order of records" if run_problems else ""))
        return 1
    print(f"validate.py: {records} record(s), all valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
