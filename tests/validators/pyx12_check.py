#!/usr/bin/env python3
"""Validate X12 files with pyx12 and print one JSON line per file.

    python pyx12_check.py FILE...
    -> {"file": "...", "ok": true|false, "errors": ["...", ...]}

Used by tests/external_validators.rs to check the 999 (005010X231A1) and TA1 interchanges that
`umgate validate --ack-dir` writes, with a validator nobody on this project wrote.

How pyx12 is called: `pyx12.x12n_document.x12n_document(param, file, ...)`, its own validation
entry point (the one its `x12valid` script uses). That function builds a
`pyx12.error_handler.err_handler` tree (interchange -> group -> transaction set -> segment ->
element, each with its error list) and throws it away, returning only a boolean. To read pyx12's
actual findings this driver hands x12n_document a subclass of err_handler that remembers its
instances, then walks the whole tree, including the ISA/GS/ST element errors that pyx12's own
JSON visitor (errh_json) does not visit. Errors pyx12 logs outside the tree (file not X12, map
not found) and exceptions are reported too. The verdict comes from those errors, never from an
exit code (x12valid's exit code does not reflect validation results).

What pyx12 can check here:
* 999: GS08 005010X231A1 selects pyx12's own 999.5010X231.A1.xml map, so the 999 is checked
  against the guide's segments, loops, usages, code values, and by the reader for ISA/IEA,
  GS/GE and ST/SE control numbers and counts. pyx12 does not compare AK9's counts with the AK2
  loops; ak9_cross_check adds that, its findings prefixed "cross-check (not pyx12)".
* TA1: a TA1 interchange (ISA, TA1, IEA, no group) is walked with pyx12's envelope map
  x12.control.00501.xml, which defines the TA1 segment (element usages, TA104 and TA105 code
  lists, DT/TM formats) and the ISA/IEA checks. There is no separate TA1 guide map; that is all
  pyx12 has. Two limits of pyx12 are worked around, both documented where they are: its
  err_handler crashes on an error in a TA1 (_KeptErrHandler gives the error a place), and its
  control map requires a functional group in every interchange (_GS_LOOP_MISSING is waived for
  an interchange of TA1s only).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

import pyx12
import pyx12.error_handler
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document


class _RecordingHandler(logging.Handler):
    """Keeps every ERROR (and worse) record pyx12 logs while one file is validated."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


_instances: list[Any] = []
_OriginalErrHandler = pyx12.error_handler.err_handler


class _KeptErrHandler(_OriginalErrHandler):  # type: ignore[misc, valid-type]
    """pyx12's err_handler, remembered so its tree can be read after x12n_document returns.

    One bookkeeping gap is filled: err_handler files every segment under the current ST, so an
    error in an interchange-level segment (a TA1, which sits between ISA and IEA outside any
    group) makes it raise AttributeError on `None.children` instead of recording the error. Such
    segments are kept here, with the ISA they belong to. Which errors exist is still decided by
    pyx12's map (x12.control.00501.xml's TA1 segment) and its apply_segment_errors.
    """

    def __init__(self) -> None:
        super().__init__()
        self.interchange_segments: list[tuple[Any, Any]] = []
        _instances.append(self)

    def _add_cur_seg(self) -> None:
        if self.cur_st_node is None and not self.seg_node_added:
            self.interchange_segments.append((self.cur_isa_node, self.cur_seg_node))
            self.seg_node_added = True
            return
        super()._add_cur_seg()


def _element_errors(where: str, elements: list[Any]) -> list[str]:
    out = []
    for ele in elements or []:
        name = f"{where} element {ele.ele_pos}"
        if getattr(ele, "subele_pos", None):
            name += f"-{ele.subele_pos}"
        if getattr(ele, "ele_ref_num", None):
            name += f" (ref {ele.ele_ref_num})"
        for err_cde, err_str, bad in ele.errors:
            out.append(f"{name}: IK4 {err_cde}: {err_str}" + (f" [{bad}]" if bad else ""))
    return out


def _tree_errors(errh: Any) -> list[str]:
    """Every error recorded in pyx12's err_handler tree, with where it was found."""
    out: list[str] = []
    for isa in errh.children:
        where = f"ISA {isa.isa_trn_set_id or '?'} (line {isa.get_cur_line()})"
        out += [f"{where}: TA1 {cde}: {msg}" for cde, msg in isa.errors]
        out += _element_errors(where + " ISA", getattr(isa, "elements", []))
        for owner, seg in getattr(errh, "interchange_segments", []):
            if owner is isa:
                segwhere = f"{where} segment {seg.seg_id} (line {seg.get_cur_line()})"
                for cde, msg, val in seg.errors:
                    out.append(f"{segwhere}: {cde}: {msg}" + (f" [{val}]" if val else ""))
                out += _element_errors(segwhere, seg.elements)
        for gs in isa.children:
            gwhere = f"{where} GS {gs.gs_control_num or '?'}"
            out += [f"{gwhere}: AK9 {cde}: {msg}" for cde, msg in gs.errors]
            out += _element_errors(gwhere + " GS", getattr(gs, "elements", []))
            for st in gs.children:
                swhere = f"{gwhere} ST {st.trn_set_id or '?'}*{st.trn_set_control_num or '?'}"
                out += [f"{swhere}: IK5 {cde}: {msg}" for cde, msg in st.errors]
                out += _element_errors(swhere + " ST", getattr(st, "elements", []))
                for seg in st.children:
                    segwhere = f"{swhere} segment {seg.seg_id} #{seg.seg_count} (line {seg.get_cur_line()})"
                    for cde, msg, val in seg.errors:
                        out.append(f"{segwhere}: IK3 {cde}: {msg}" + (f" [{val}]" if val else ""))
                    out += _element_errors(segwhere, seg.elements)
    return out


# Every error err_handler records is also logged, as "Line:N ISA:..." (or GS/ST/SEG/ELE); those
# are read from the tree instead. Any other ERROR record (an error err_handler had no place for,
# "does not look like an X12 data file", ...) is reported as it is.
_MIRRORED_IN_TREE = re.compile(r"^Line:\d+ (ISA|GS|ST|SEG|ELE):")

# pyx12 is wrong here: its control map marks GS_LOOP as required in every interchange, but an
# interchange may carry interchange-level segments only (X12.5: zero or more functional groups),
# and a TA1 reply is exactly ISA, TA1, IEA with IEA01 = 0. This one error is waived for an
# interchange that holds a TA1 and no functional group; everything else about it is still checked.
_GS_LOOP_MISSING = re.compile(r'Mandatory loop "Functional Group Header" \(GS_LOOP\) missing')


def ak9_cross_check(path: str) -> list[str]:
    """AK9 counts against the 999's own AK2 loops: a check pyx12 does not make.

    pyx12 validates AK9's element formats and code values, not whether its counts agree with the
    rest of the 999. So that a 999 with wrong counts cannot pass, this adds, using pyx12's own
    reader, the consistency the 005010X231A1 AK9 implies: AK903 is the number of transaction sets
    received (one AK2 loop each), AK904 the number of them accepted (IK5 A or E), and AK901 agrees
    (A/E: all accepted; P: some; R: none). Group-level rejections with no AK2 loop are not judged.
    Reported with the prefix "cross-check (not pyx12)".
    """
    out: list[str] = []
    try:
        reader = pyx12.x12file.X12Reader(path)
    except Exception:
        return out  # pyx12's own run reports a file it cannot read
    ak2 = 0
    accepted = 0
    try:
        for seg in reader:
            seg_id = seg.get_seg_id()
            if seg_id == "ST":
                ak2 = accepted = 0
            elif seg_id == "AK2":
                ak2 += 1
            elif seg_id == "IK5" and seg.get_value("IK501") in ("A", "E"):
                accepted += 1
            elif seg_id == "AK9" and ak2 > 0:
                code = seg.get_value("AK901")
                try:
                    received = int(seg.get_value("AK903"))
                    accepted_declared = int(seg.get_value("AK904"))
                except (TypeError, ValueError):
                    continue  # not numeric: pyx12 reports that itself
                where = f"cross-check (not pyx12): AK9*{code}*{seg.get_value('AK902')}*{received}*{accepted_declared}"
                if received != ak2:
                    out.append(f"{where}: AK903 says {received} sets received, the 999 has {ak2} AK2 loops")
                if accepted_declared != accepted:
                    out.append(f"{where}: AK904 says {accepted_declared} sets accepted, the 999 has {accepted} IK5 A/E")
                expected = "R" if accepted == 0 else ("P" if accepted < ak2 else "A or E")
                if code not in expected.split(" or "):
                    out.append(f"{where}: AK901 {code} but {accepted} of {ak2} sets accepted (expected {expected})")
    except Exception:
        pass  # syntax errors are pyx12's to report
    finally:
        reader.cleanup()
        reader.close()
    return out


def check(path: str) -> dict[str, Any]:
    errors: list[str] = []
    logger = logging.getLogger("pyx12")
    recorder = _RecordingHandler()
    logger.addHandler(recorder)
    _instances.clear()
    seen: set[str] = set()

    def note_segment(seg: Any, *_: Any) -> None:
        seen.add(seg.get_seg_id())

    pyx12.error_handler.err_handler = _KeptErrHandler
    valid = None
    try:
        param = pyx12.params.params()
        valid = pyx12.x12n_document.x12n_document(
            param=param,
            src_file=path,
            fd_997=None,
            fd_html=None,
            fd_xmldoc=None,
            callback=note_segment,
        )
    except Exception as exc:  # pyx12 raises EngineError for e.g. an unknown GS08/GS01 map
        errors.append(f"pyx12 raised {type(exc).__name__}: {exc}")
    finally:
        pyx12.error_handler.err_handler = _OriginalErrHandler
        logger.removeHandler(recorder)
    if not _instances:
        errors.append("pyx12 did not start validating (no error handler was created)")
    for errh in _instances:
        errors += _tree_errors(errh)
        if not errh.children:
            errors.append("pyx12 found no interchange in the file")
    errors += [f"pyx12: {m}" for m in recorder.messages if not _MIRRORED_IN_TREE.match(m)]
    if "TA1" in seen and not seen & {"GS", "ST"}:
        errors = [e for e in errors if not _GS_LOOP_MISSING.search(e)]
    errors += ak9_cross_check(path)
    if not errors and valid is False:
        errors.append("pyx12 judged the file invalid without recording an error")
    return {"file": path, "ok": not errors, "errors": errors}


def main(argv: list[str]) -> int:
    logging.getLogger("pyx12").setLevel(logging.INFO)
    logging.getLogger("pyx12").propagate = False
    if len(argv) < 2:
        print("usage: pyx12_check.py FILE...", file=sys.stderr)
        return 2
    if argv[1] == "--version":
        print(json.dumps({"pyx12": pyx12.__version__}))
        return 0
    for path in argv[1:]:
        print(json.dumps(check(path)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
