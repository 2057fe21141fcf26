"""template.yaml's logs, dashboard and alarms: they use the log format and level Lambda passes
to the function, and the metric names, namespace and dimension the function writes (read
from the Rust source that writes the Embedded Metric Format line)."""

from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT

METRICS_SOURCE = ROOT / "src"
# What the dashboard must show, by metric name.
DASHBOARD_METRICS = {
    "SessionsClosed",
    "SessionsEligible",
    "SessionsFailed",
    "SessionsDeferred",
    "MaxOverdueSeconds",
    "SweepDurationMs",
}


def emitted() -> tuple[str, set[str], dict[str, str]]:
    """The namespace, metric names and dimension values of the function's EMF line."""
    text = "\n".join(path.read_text() for path in sorted(METRICS_SOURCE.rglob("*.rs")))
    namespace = re.search(r'METRICS_NAMESPACE: &str = "([^"]+)"', text)
    names = set(re.findall(r'\{"Name": "(\w+)", "Unit": "\w+"\}', text))
    dimensions = re.search(r'"Dimensions": \[\["(\w+)"\]\]', text)
    assert namespace and names and dimensions, "the EMF line was not found in src/"
    dimension = dimensions.group(1)
    value = re.search(rf'"{dimension}": "([^"]+)"', text)
    assert value, f"no value for the dimension {dimension}"
    return namespace.group(1), names, {dimension: value.group(1)}


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == kind}


@pytest.fixture(scope="module")
def dashboard(template: dict) -> dict:
    """The dashboard body as JSON, with Fn::Sub's variables filled in as CloudFormation would."""
    (properties,) = resources_of(template, "AWS::CloudWatch::Dashboard").values()
    body, variables = properties["DashboardBody"]["Fn::Sub"]
    filled = re.sub(
        r"\$\{([^}]+)\}",
        lambda match: variables.get(match.group(1), f"<{match.group(1)}>"),
        body,
    )
    return json.loads(filled)


def dashboard_metrics(dashboard: dict) -> list[list]:
    return [
        metric
        for widget in dashboard["widgets"]
        if widget["type"] == "metric"
        for metric in widget["properties"]["metrics"]
    ]


def test_the_function_logs_json_at_the_application_log_level_parameter(template, function):
    logging = function["Properties"]["LoggingConfig"]

    assert logging["LogFormat"] == "JSON"
    assert logging["ApplicationLogLevel"] == {"Ref": "ApplicationLogLevel"}
    assert template["Parameters"]["ApplicationLogLevel"]["Default"] == "INFO"


def test_no_log_level_can_drop_the_info_lines_that_carry_the_summary_and_metrics(template):
    allowed = template["Parameters"]["ApplicationLogLevel"]["AllowedValues"]

    assert "INFO" in allowed
    assert not {"WARN", "ERROR", "FATAL"} & set(allowed)


def test_the_log_level_reaches_the_function_only_through_lambda(function):
    variables = function["Properties"]["Environment"]["Variables"]

    assert "RUST_LOG" not in variables
    assert "AWS_LAMBDA_LOG_LEVEL" not in variables


def test_the_dashboard_shows_every_sweep_metric_the_function_writes(dashboard):
    namespace, names, dimension = emitted()
    ((dimension_name, dimension_value),) = dimension.items()

    shown = {
        metric[1]
        for metric in dashboard_metrics(dashboard)
        if metric[0] == namespace and metric[2:4] == [dimension_name, dimension_value]
    }

    assert DASHBOARD_METRICS <= names
    assert DASHBOARD_METRICS <= shown


def test_every_dashboard_metric_of_the_function_is_one_it_writes(dashboard):
    namespace, names, _ = emitted()

    custom = {metric[1] for metric in dashboard_metrics(dashboard) if metric[0] != "AWS/Lambda"}

    assert custom <= names
    assert {metric[0] for metric in dashboard_metrics(dashboard)} == {namespace, "AWS/Lambda"}


def test_the_dashboard_shows_the_functions_lambda_errors(dashboard):
    lambda_metrics = [m for m in dashboard_metrics(dashboard) if m[0] == "AWS/Lambda"]

    assert ["AWS/Lambda", "Errors", "FunctionName", "<SweeperFunction>"] in [m[:4] for m in lambda_metrics]


def test_the_dashboard_url_is_a_stack_output(template):
    url = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]

    assert "#dashboards:name=${SweeperDashboard}" in url


def test_an_alarm_fires_when_a_sweep_fails_to_close_a_session(template):
    namespace, names, dimension = emitted()
    alarms = resources_of(template, "AWS::CloudWatch::Alarm").values()

    (alarm,) = [a for a in alarms if a.get("MetricName") == "SessionsFailed"]

    assert "SessionsFailed" in names
    assert alarm["Namespace"] == namespace
    assert alarm["Dimensions"] == [{"Name": n, "Value": v} for n, v in dimension.items()]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_an_alarm_fires_when_several_sweeps_of_a_day_all_stop_early(template):
    namespace, names, dimension = emitted()
    alarm = template["Resources"]["IncompleteSweepsAlarm"]["Properties"]
    stats = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]

    assert "SweepIncomplete" in names
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == namespace
        assert stat["Metric"]["MetricName"] == "SweepIncomplete"
        assert stat["Metric"]["Dimensions"] == [{"Name": n, "Value": v} for n, v in dimension.items()]
    assert sorted(stat["Stat"] for stat in stats.values()) == ["Minimum", "SampleCount"]
    assert expression["Expression"] == {
        "Fn::Sub": "IF(sweeps >= ${IncompleteSweepsBeforeAlarm}, incomplete, 0)"
    }
    assert template["Parameters"]["IncompleteSweepsBeforeAlarm"]["MinValue"] >= 2
    assert alarm["TreatMissingData"] == "notBreaching"


def test_every_alarm_notifies_the_alarm_topic_when_one_is_given(template):
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")

    assert len(alarms) == 3
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }
