"""Validate JSON documents against a JSON Schema with Python's jsonschema (an independent
implementation), printing {"<file>": ["<error>", ...]} as JSON.

usage: validate.py SCHEMA FILE...
"""
import json
import sys

import jsonschema


def main() -> None:
    schema = json.load(open(sys.argv[1]))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    result = {}
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        result[path] = sorted(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
        )
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
