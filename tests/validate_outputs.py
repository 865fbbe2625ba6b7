#!/usr/bin/env python3
"""Validate constrained-generation outputs with a real JSON Schema validator.

    validate_outputs.py MANIFEST [MIN_FILES]

MANIFEST (written by agm-constrained-gen) has one line per output,
"FILE<TAB>SCHEMA", FILE relative to the manifest's directory. Each output
must be one JSON text (RFC 8259, no repeated keys, nothing after it) that
python3-jsonschema's Draft202012Validator accepts under its schema, with the
formats asserted: the library's own checkers where it has them, and our
RFC 3339 / RFC 4122 / RFC 5321 checks for date, time, date-time, uuid and
email (the library skips a format whose optional dependency is missing).

Exit 0 when every output is valid and there are at least MIN_FILES of them
(default 1); 1 otherwise, naming each failure.
"""

import datetime
import json
import os
import re
import sys

try:
    import jsonschema
except ImportError:
    sys.stderr.write("validate_outputs.py: python3-jsonschema is not installed (tools/setup.sh installs it)\n")
    sys.exit(2)

TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?"
                  r"(Z|z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL = re.compile(r"^" + ATOM + r"(\." + ATOM + r")*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
                   r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def is_date(s):
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", s):
        return False
    try:
        datetime.date(int(s[0:4]), int(s[5:7]), int(s[8:10]))
    except ValueError:
        return False
    return True


def is_time(s):
    return TIME.fullmatch(s) is not None


def is_date_time(s):
    parts = re.split(r"[Tt]", s, maxsplit=1)
    return len(parts) == 2 and is_date(parts[0]) and is_time(parts[1])


def is_email(s):
    local = s.rsplit("@", 1)[0]
    return EMAIL.fullmatch(s) is not None and len(local) <= 64 and len(s) <= 254


def format_checker():
    fc = jsonschema.FormatChecker()
    for name, fn in (("date", is_date), ("time", is_time), ("date-time", is_date_time),
                     ("uuid", lambda s: UUID.fullmatch(s) is not None), ("email", is_email)):
        # Strings only: a format asserts nothing about other types.
        fc.checks(name)(lambda v, fn=fn: not isinstance(v, str) or fn(v))
    return fc


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("repeated key")
    return dict(pairs)


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    manifest = sys.argv[1]
    min_files = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    base = os.path.dirname(manifest)
    fc = format_checker()
    validators = {}
    n = bad = 0
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            name, schema_path = line.split("\t")
            if schema_path not in validators:
                with open(schema_path, encoding="utf-8") as sf:
                    schema = json.load(sf)
                jsonschema.Draft202012Validator.check_schema(schema)
                validators[schema_path] = jsonschema.Draft202012Validator(schema, format_checker=fc)
            n += 1
            with open(os.path.join(base, name), "rb") as of:
                raw = of.read()
            try:
                value = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates,
                                   parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            except ValueError as e:  # UnicodeDecodeError and JSONDecodeError included
                bad += 1
                print("INVALID %s: not one JSON text (%s): %r" % (name, e, raw[:200]))
                continue
            errors = sorted(validators[schema_path].iter_errors(value), key=lambda e: list(e.path))
            if errors:
                bad += 1
                print("INVALID %s under %s: %s at %s" % (name, os.path.basename(schema_path), errors[0].message,
                                                        "/".join(str(p) for p in errors[0].path)))
    print("validate_outputs: %d outputs under %d schemas, %d invalid (jsonschema %s)" %
          (n, len(validators), bad, _version()))
    if n < min_files:
        print("validate_outputs: expected at least %d outputs" % min_files)
        return 1
    return 0 if bad == 0 else 1


def _version():
    try:
        from importlib.metadata import version
        return version("jsonschema")
    except Exception:  # noqa: BLE001 - the version is informative only
        return "?"


if __name__ == "__main__":
    sys.exit(main())
