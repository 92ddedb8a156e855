"""JUnit XML for CI: one testsuite, one testcase per scenario file."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def junit_xml(results, suite_name: str = "boardemu-scenarios") -> bytes:
    suite = ET.Element("testsuite", name=suite_name, tests=str(len(results)),
                       failures=str(sum(r.status in ("fail", "timeout") for r in results)),
                       errors=str(sum(r.status == "error" for r in results)), skipped="0",
                       time=f"{sum(r.wall_s for r in results):.3f}")
    for r in results:
        stem = Path(r.path).stem
        case = ET.SubElement(suite, "testcase", classname=f"scenarios.{stem}", name=r.name,
                             file=str(r.path), time=f"{r.wall_s:.3f}")
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="board_time_s", value=f"{r.time_ns / 1e9:.9f}")
        ET.SubElement(props, "property", name="steps_passed",
                      value=str(sum(s.status == "ok" for s in r.steps)))
        if r.status == "fail":
            el = ET.SubElement(case, "failure", message=r.message, type="StepFailed")
            el.text = r.report
        elif r.status == "timeout":
            el = ET.SubElement(case, "failure", message=r.message, type="BoardTimeout")
            el.text = r.report
        elif r.status == "error":
            el = ET.SubElement(case, "error", message=r.message, type="ScenarioError")
            el.text = r.message
        if r.report:
            out = ET.SubElement(case, "system-out")
            out.text = r.report
    ET.indent(suite)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(path, results):
    Path(path).write_bytes(junit_xml(results))
