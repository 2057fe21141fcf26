"""Shared fixtures for the deployment checks: the SAM template, parsed once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"


@pytest.fixture(scope="session")
def template() -> dict:
    """template.yaml as plain data; short-form tags (!Ref, !If, !Sub) become their long forms
    ({"Ref": ...}, {"Fn::If": ...}), the way cfn-lint and CloudFormation read them."""
    parsed, problems = decode(str(TEMPLATE))
    assert not problems, [str(problem) for problem in problems]
    # A round trip through JSON drops cfn-lint's node classes, so comparisons are plain.
    return json.loads(json.dumps(parsed))


@pytest.fixture(scope="session")
def function(template: dict) -> dict:
    """The Properties of the one AWS::Serverless::Function."""
    functions = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    assert len(functions) == 1
    return functions[0]


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())
