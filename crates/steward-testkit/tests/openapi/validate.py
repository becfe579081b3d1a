"""Validates an OpenAPI 3.1 document (JSON on stdin) with openapi-spec-validator.

Prints one line per error (where in the document, then what is wrong) and a
count; exits 1 when there is any error. Run by tests/it/openapi.rs.
"""

import json
import sys

from openapi_spec_validator import OpenAPIV31SpecValidator


def where(error):
    path = getattr(error, "absolute_path", None) or getattr(error, "path", None) or []
    return "/" + "/".join(str(p) for p in path)


def main():
    document = json.load(sys.stdin)
    errors = list(OpenAPIV31SpecValidator(document).iter_errors())
    for error in errors:
        print(f"{where(error)}: {error.message}")
    print(f"{len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
