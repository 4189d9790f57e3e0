"""``ebnn-sim check`` results as JUnit XML, the test report CI systems show (docs/ci.md)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from sim.formats import write_text

if TYPE_CHECKING:
    from sim.budgets import CheckResult


# characters XML 1.0 does not allow, even escaped (C0 controls but tab, newline and CR;
# surrogates; U+FFFE/U+FFFF): a symbol name or console byte with one made the whole report
# unreadable to Jenkins and GitLab
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids shown as ``\\xNN``/``\\uNNNN``."""
    return _NOT_XML.sub(lambda m: ascii(m.group())[1:-1], text)


# the testcase of an error that stopped the check (exit 2: a bad budgets file, an ELF that
# cannot be loaded, ...)
ERROR_CLASSNAME = "ebnn-sim check"


def check_junit(result: CheckResult) -> ET.ElementTree:
    """One testsuite, one testcase per ELF and metric; broken budgets are <failure>s, runs
    that faulted/stopped/exited non-zero make their testcases <error>s, and an error that
    stopped the check (exit 2) is one more <error> testcase, after the runs done before it."""
    root = ET.Element("testsuites", name="ebnn-sim")
    suite = ET.SubElement(root, "testsuite", name="ebnn-sim budgets")
    tests = failures = errors = 0
    wall = 0.0
    for e in result.elfs:
        wall += e.report.wall_seconds
        share = e.report.wall_seconds / max(1, len(e.checks))
        metrics = [c.metric for c in e.checks]
        for c in e.checks:
            tests += 1
            # two tables budgeting one metric of one ELF: named apart, or a CI tool keying on
            # classname + name lets the passing case hide the failing one
            name = c.metric if metrics.count(c.metric) == 1 else f"{c.metric} ({c.where})"
            case = ET.SubElement(suite, "testcase", classname=e.name, name=name,
                                 time=f"{share:.3f}")
            if e.problem is not None:
                errors += 1
                node = ET.SubElement(case, "error", type="run_failed",
                                     message=f"{e.name}: {e.problem}")
                node.text = f"{e.problem}\n{c.message}\n"
            elif not c.passed:
                failures += 1
                node = ET.SubElement(case, "failure", type="over_budget",
                                     message=f"{e.name}: {c.message}")
                node.text = f"{c.message}\nbudget from {c.where}\n"
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{c.message}\nbudget from {c.where}\n"
    if result.fail_on_warnings:  # (check --fail-on-warnings) each warned run fails a case
        for e in result.elfs:
            warned = [w for r, w in result.warnings if r is e]
            if not warned:
                continue
            tests += 1
            failures += 1
            case = ET.SubElement(suite, "testcase", classname=e.name, name="warnings",
                                 time="0.000")
            node = ET.SubElement(case, "failure", type="warning",
                                 message=f"{e.name}: {warned[0]}")
            node.text = "".join(f"{w}\n" for w in warned)
    if result.error is not None:  # exit 2: a CI test view shows why, not no report (or an
        tests += 1  # old one)
        errors += 1
        case = ET.SubElement(suite, "testcase", classname=ERROR_CLASSNAME, name="configuration",
                             time="0.000")
        node = ET.SubElement(case, "error", type="usage_error", message=result.error)
        node.text = f"{result.error}\n"
    for name in result.not_run:  # interrupted (Ctrl-C) or stopped by an error before it ran:
        tests += 1  # skipped, not lost
        case = ET.SubElement(suite, "testcase", classname=name, name="not run", time="0.000")
        ET.SubElement(case, "skipped", message=result.not_run_reason)
    for node in (root, suite):
        node.set("tests", str(tests))
        node.set("failures", str(failures))
        node.set("errors", str(errors))
        node.set("time", f"{wall:.3f}")
    suite.set("skipped", str(len(result.not_run)))
    for node in root.iter():
        node.attrib = {k: _xml_safe(v) for k, v in node.attrib.items()}
        if node.text:
            node.text = _xml_safe(node.text)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(result: CheckResult, path: Path) -> None:
    """:func:`check_junit` in ``path``, written atomically (``sim.formats.write_text``)."""
    root = check_junit(result).getroot()
    assert root is not None  # check_junit builds the tree around a root
    xml = ET.tostring(root, encoding="unicode")
    write_text(path, "<?xml version='1.0' encoding='utf-8'?>\n" + xml + "\n")
