#!/usr/bin/env python3
"""Check 271 (005010X279A1) files with linuxforhealth-x12 and print one JSON line per file.

    python lfh_check.py FILE...
    -> {"file": "...", "ok": true|false, "transactions": N, "errors": ["...", ...]}

Used by tests/mapping_271.rs to read the 271s umgate writes with a validator nobody on this
project wrote. linuxforhealth-x12 models the 270 and the 271 of 005010X279A1 as pydantic
models: segments with their element types, lengths and code values, loops, and transaction-level
rules (HL parent/child links and child codes, the subscriber's first name when the subscriber is
the patient, SE01 segment count, repeated REF qualifiers, ...). Every violation is raised as an
exception while the transaction is parsed; this driver records it instead of stopping.

The verdict is read from what the library finds, never from an exit code:
* every transaction set (ST) of the file must parse into the library's 271 model
  (`EligibilityBenefit` of x12_271_005010X279A1), without a validation error;
* the number of models must equal the number of ST segments (a set the library skipped, or a
  file with no set at all, fails);
* the model, written back by the library (`model.x12()`), must give exactly the segments of the
  set as the file has them, in order. The library places each segment in the loop its model
  has for it and writes loops in the guide's order, so a segment it did not place, placed
  elsewhere, or dropped shows up here (the library is lenient about segments it does not expect).
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Any, List, Optional

# AAA03 reject reasons and AAA04 follow-up actions of the guide (005010X279A1) for the 271's
# subscriber (2100C) and dependent (2100D) name loops.
_SUBSCRIBER_REJECTS = ["15", "35", "42", "43", "45", "47", "48", "49", "51", "52", "56", "57", "58", "60", "61",
                       "62", "63", "71", "72", "73", "74", "75", "76", "78"]
_DEPENDENT_REJECTS = ["15", "35", "42", "43", "45", "47", "48", "49", "51", "52", "56", "57", "58", "60", "61",
                      "62", "63", "64", "65", "66", "67", "68", "71", "77"]
_FOLLOW_UPS = ["C", "N", "R", "S", "W", "X", "Y"]


def _fix_name_loop_aaa() -> None:
    """Gives the 2100C and 2100D AAA segments the guide's code lists.

    linuxforhealth-x12 0.57.0 declares the AAA of Loop2100C and Loop2100D with the information
    receiver's model (Loop2100BAaaSegment: AAA03 15, 41, 43-48, 50, 51, 79, 97, T4), so it
    refuses every subscriber or patient reject the guide defines there (72 Invalid/Missing
    Subscriber ID, 75 Subscriber Not Found, 71 birth date mismatch, 67 Patient Not Found, ...).
    This replaces just that field of those two loop models with segments holding the guide's
    lists for those loops; every other check of the library stays as it is.
    """
    from pydantic.fields import Field, ModelField

    from linuxforhealth.x12.v5010.segments import AaaSegment
    from linuxforhealth.x12.v5010.x12_271_005010X279A1 import loops

    def aaa_model(name: str, rejects: list[str]) -> type:
        reject_enum = Enum(name + "RejectReasonCode", {"C" + code: code for code in rejects}, type=str)
        follow_up_enum = Enum(name + "FollowUpActionCode", {"C" + code: code for code in _FOLLOW_UPS}, type=str)
        return type(
            name,
            (AaaSegment,),
            {"__annotations__": {"reject_reason_code": reject_enum, "follow_up_action_code": follow_up_enum}},
        )

    for loop, name, rejects in (
        (loops.Loop2100C, "Loop2100CAaaSegment", _SUBSCRIBER_REJECTS),
        (loops.Loop2100D, "Loop2100DAaaSegment", _DEPENDENT_REJECTS),
    ):
        segment = aaa_model(name, rejects)
        loop.__fields__["aaa_segment"] = ModelField.infer(
            name="aaa_segment",
            value=Field(None, min_items=0, max_items=9),
            annotation=Optional[List[segment]],
            class_validators=None,
            config=loop.__config__,
        )


def _set_segments(path: str) -> tuple[list[list[str]], list[str]]:
    """The ST..SE segments of the file, as lists of elements (delimiters from the ISA)."""
    with open(path, "r", encoding="ascii", errors="replace") as handle:
        text = handle.read()
    start = text.find("ISA")
    if start < 0:
        return [], ["no ISA segment"]
    element = text[start + 3]
    terminator = text[start + 105]
    segments = []
    inside = False
    for raw in text[start:].split(terminator):
        raw = raw.strip()
        if not raw:
            continue
        fields = raw.split(element)
        if fields[0] == "ST":
            inside = True
        if inside:
            segments.append(fields)
        if fields[0] == "SE":
            inside = False
    return segments, []


def check(path: str) -> dict[str, Any]:
    errors: list[str] = []
    transactions = 0
    ours, problems = _set_segments(path)
    errors.extend(problems)
    expected_sets = sum(1 for s in ours if s[0] == "ST")
    written: list[list[str]] = []
    try:
        from linuxforhealth.x12.io import X12ModelReader

        with X12ModelReader(path) as reader:
            for model in reader.models():
                transactions += 1
                name = type(model).__module__ + "." + type(model).__name__
                if not name.endswith("x12_271_005010X279A1.transaction_set.EligibilityBenefit"):
                    errors.append(f"transaction {transactions} read as {name}, not the 271 model")
                element = model.header.st_segment.delimiters.element_separator if getattr(
                    model.header.st_segment, "delimiters", None
                ) else "*"
                for line in model.x12().split("~"):
                    line = line.strip()
                    if line:
                        written.append(line.split(element))
    except Exception as error:  # pydantic ValidationError, parser errors: the library's verdict
        errors.append(f"{type(error).__name__}: {error}")
    if transactions != expected_sets:
        errors.append(f"{expected_sets} transaction sets in the file, {transactions} read by linuxforhealth-x12")
    if not errors and written != ours:
        for n, (a, b) in enumerate(zip(ours, written)):
            if a != b:
                errors.append(f"segment {n + 1}: file has {'*'.join(a)}, linuxforhealth-x12 wrote {'*'.join(b)}")
                break
        else:
            errors.append(f"file has {len(ours)} set segments, linuxforhealth-x12 wrote {len(written)}")
    if expected_sets == 0:
        errors.append("no transaction set in the file")
    return {"file": path, "ok": not errors, "transactions": transactions, "errors": errors}


def main(paths: list[str]) -> int:
    _fix_name_loop_aaa()
    for path in paths:
        print(json.dumps(check(path)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
