"""template.yaml: it lints clean, its SweepRate pattern admits exactly the rate expressions
EventBridge accepts, and the function is deployed the way docs/operating.md says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEMPLATE

# Every variable the README says the function reads (SPECS in src/settings/spec.rs holds the same
# list); the log level comes from LoggingConfig.
FUNCTION_ENVIRONMENT = {
    "DATAVERSE_SECRET_ID",
    "DRY_RUN",
    "MAX_CLOSURES_PER_SWEEP",
    "SECRET_CACHE_SECONDS",
    "SESSION_TABLE",
    "SESSION_ID_COLUMN",
    "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN",
    "SESSION_CONFIGURATION_LOOKUP",
    "SESSION_CLOSED_STATECODE",
    "SESSION_CLOSED_STATUSCODE",
    "SESSION_ACTIVE_STATECODE",
    "SESSION_ACTIVE_STATUSCODE",
    "SESSION_CLOSE_REASON_COLUMN",
    "SESSION_LAST_AGENT_MESSAGE_COLUMN",
    "SESSION_END_COLUMN",
    "CONFIGURATION_TABLE",
    "CONFIGURATION_ID_COLUMN",
    "CONFIGURATION_TIMEOUT_COLUMN",
    "CONFIGURATION_TIMEOUT_UNIT",
    "CLOSE_BATCH_SIZE",
    "CLOSE_CONCURRENCY",
    "DEADLINE_MARGIN_SECONDS",
    "MIN_SESSION_TIMEOUT",
    "DEFAULT_CONFIGURATION_ID",
    "WAKE_SCHEDULE_NAME",
    "WAKE_SCHEDULE_GROUP",
    "WAKE_ROLE_ARN",
    "MIN_WAKE_INTERVAL",
    "WAKE_DEAD_LETTER_ARN",
    "WAKE_RETRY_ATTEMPTS",
    "WAKE_MAX_EVENT_AGE_SECONDS",
    "EVENT_BUS_NAME",
    "WARNING_LEAD",
    "SESSION_WARNED_AT_COLUMN",
    "WARNING_MESSAGE_TEXT",
    "CLOSING_MESSAGE_TEXT",
    "MESSAGE_TABLE",
    "MESSAGE_SESSION_NAVIGATION",
    "MESSAGE_TEXT_COLUMN",
    "MESSAGE_FIXED_VALUES",
    "MESSAGE_ACTION",
    "MESSAGE_ACTION_BOUND",
    "MESSAGE_ACTION_PARAMETERS",
}


def cfn_lint() -> Path:
    """cfn-lint from the same virtual environment as this pytest."""
    return Path(sys.executable).parent / "cfn-lint"


def sweep_rate_accepts(template: dict, expression: str) -> bool:
    # CloudFormation matches AllowedPattern against the whole value, hence fullmatch.
    pattern = template["Parameters"]["SweepRate"]["AllowedPattern"]
    return re.fullmatch(pattern, expression) is not None


def test_cfn_lint_finds_no_errors_or_warnings():
    result = subprocess.run(
        [str(cfn_lint()), str(TEMPLATE)], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "rate(30 minutes)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "rate(1 minute)",
        "rate(10 minutes)",
        "rate(100 days)",
    ],
)
def test_sweep_rate_accepts_a_valid_rate_expression(template, expression):
    assert sweep_rate_accepts(template, expression)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 hours)",
        "rate(0 hour)",
        "rate(1 hours)",
        "rate(5 hour)",
        "rate(12 Hours)",
        "cron(0 12 * * ? *)",
        "rate(-1 hours)",
        "rate(01 hour)",
        "",
        "rate( 2 hours)",
        "rate(2 hours) ",
        "rate(2 weeks)",
        "rate(1.5 hours)",
    ],
)
def test_sweep_rate_rejects_anything_but_a_valid_rate_expression(template, expression):
    assert not sweep_rate_accepts(template, expression)


def test_sweep_rate_defaults_to_every_twelve_hours(template):
    default = template["Parameters"]["SweepRate"]["Default"]

    assert default == "rate(12 hours)"
    assert sweep_rate_accepts(template, default)


def test_the_schedule_event_fires_at_the_sweep_rate(function):
    events = function["Properties"]["Events"].values()

    schedules = [event for event in events if event["Type"] == "Schedule"]

    assert [event["Properties"]["Schedule"] for event in schedules] == [{"Ref": "SweepRate"}]


def test_the_function_runs_on_arm64(function):
    assert function["Properties"]["Architectures"] == ["arm64"]


def test_the_function_runs_on_the_provided_al2023_runtime(function):
    assert function["Properties"]["Runtime"] == "provided.al2023"
    assert function["Properties"]["Handler"] == "bootstrap"


def test_the_function_is_built_from_the_session_sweeper_binary_with_cargo_lambda(function):
    assert function["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert function["Metadata"]["BuildProperties"]["Binary"] == "session-sweeper"


def test_reserved_concurrency_is_one_only_when_the_parameter_asks_for_it(template, function):
    parameter = template["Parameters"]["ReservedConcurrency"]
    condition, reserved, otherwise = function["Properties"]["ReservedConcurrentExecutions"]["Fn::If"]

    assert parameter["Default"] == 0
    assert template["Conditions"][condition] == {"Fn::Equals": [{"Ref": "ReservedConcurrency"}, 1]}
    assert (reserved, otherwise) == (1, {"Ref": "AWS::NoValue"})


def test_the_function_may_read_only_the_one_dataverse_secret(function):
    statements = [
        statement
        for policy in function["Properties"]["Policies"]
        for statement in policy["Statement"]
        if "Fn::If" not in statement
    ]

    assert len(statements) == 1
    (statement,) = statements
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    secret_arn, secret_name = statement["Resource"]["Fn::If"][1:]
    assert secret_arn == {"Ref": "DataverseSecretId"}
    assert secret_name["Fn::Sub"].endswith(":secret:${DataverseSecretId}-??????")


def test_kms_decrypt_is_granted_only_when_a_customer_managed_key_is_given(template, function):
    conditional = [
        statement["Fn::If"]
        for policy in function["Properties"]["Policies"]
        for statement in policy["Statement"]
        if "Fn::If" in statement
    ]

    assert len(conditional) == 1
    condition, granted, otherwise = conditional[0]
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SecretKmsKeyArn"}, ""]}]
    }
    assert granted["Action"] == "kms:Decrypt"
    assert granted["Resource"] == {"Ref": "SecretKmsKeyArn"}
    assert otherwise == {"Ref": "AWS::NoValue"}


def test_no_policy_statement_grants_every_resource(function):
    resources = [
        str(statement)
        for policy in function["Properties"]["Policies"]
        for statement in policy["Statement"]
    ]

    assert all("'*'" not in resource for resource in resources)


def test_the_function_receives_every_setting_the_readme_lists(function):
    variables = function["Properties"]["Environment"]["Variables"]

    assert set(variables) == FUNCTION_ENVIRONMENT


def test_every_setting_has_the_readme_default(template, function):
    variables = function["Properties"]["Environment"]["Variables"]
    parameters = template["Parameters"]
    # The wake-up's name and role are set by the CloseOnTime switch (its own test below).
    defaults = {
        name: str(parameters[value["Ref"]].get("Default"))
        for name, value in variables.items()
        if "Ref" in value
    }

    assert defaults == {
        "DATAVERSE_SECRET_ID": "session-sweeper/dataverse",
        "DRY_RUN": "false",
        "MAX_CLOSURES_PER_SWEEP": "5000",
        "SECRET_CACHE_SECONDS": "300",
        "SESSION_TABLE": "w4d_chatsessions",
        "SESSION_ID_COLUMN": "w4d_chatsessionid",
        "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN": "w4d_lastcustomermessageon",
        "SESSION_CONFIGURATION_LOOKUP": "_w4d_configurationid_value",
        "SESSION_CLOSED_STATECODE": "1",
        "SESSION_CLOSED_STATUSCODE": "2",
        "SESSION_ACTIVE_STATECODE": "0",
        "SESSION_ACTIVE_STATUSCODE": "1",
        "SESSION_CLOSE_REASON_COLUMN": "",
        "SESSION_LAST_AGENT_MESSAGE_COLUMN": "",
        "SESSION_END_COLUMN": "",
        "CONFIGURATION_TABLE": "w4d_whatsappconfigurations",
        "CONFIGURATION_ID_COLUMN": "w4d_whatsappconfigurationid",
        "CONFIGURATION_TIMEOUT_COLUMN": "w4d_sessiontimeout",
        "CONFIGURATION_TIMEOUT_UNIT": "minutes",
        "CLOSE_BATCH_SIZE": "100",
        "CLOSE_CONCURRENCY": "4",
        "DEADLINE_MARGIN_SECONDS": "20",
        "MIN_SESSION_TIMEOUT": "5 minutes",
        "DEFAULT_CONFIGURATION_ID": "",
        "WAKE_SCHEDULE_GROUP": "default",
        "MIN_WAKE_INTERVAL": "1 minute",
        "WAKE_RETRY_ATTEMPTS": "2",
        "WAKE_MAX_EVENT_AGE_SECONDS": "300",
        "EVENT_BUS_NAME": "",
        "WARNING_LEAD": "",
        "SESSION_WARNED_AT_COLUMN": "",
        "WARNING_MESSAGE_TEXT": "",
        "CLOSING_MESSAGE_TEXT": "",
        "MESSAGE_TABLE": "",
        "MESSAGE_SESSION_NAVIGATION": "",
        "MESSAGE_TEXT_COLUMN": "",
        "MESSAGE_FIXED_VALUES": "",
        "MESSAGE_ACTION": "",
        "MESSAGE_ACTION_BOUND": "false",
        "MESSAGE_ACTION_PARAMETERS": "",
    }


def test_a_batch_can_hold_at_most_the_thousand_operations_dataverse_allows(template):
    batch_size = template["Parameters"]["CloseBatchSize"]

    assert (batch_size["MinValue"], batch_size["MaxValue"]) == (1, 1000)


def test_the_timeout_leaves_room_for_the_largest_deadline_margin(template, function):
    largest_margin = template["Parameters"]["DeadlineMarginSeconds"]["MaxValue"]

    assert function["Properties"]["Timeout"] > 2 * largest_margin


def test_a_failed_sweep_is_retried_then_sent_to_the_failure_queue(template, function):
    invoke_config = function["Properties"]["EventInvokeConfig"]
    on_failure = invoke_config["DestinationConfig"]["OnFailure"]

    assert invoke_config["MaximumRetryAttempts"] >= 1
    assert on_failure["Type"] == "SQS"
    queue = on_failure["Destination"]["Fn::GetAtt"][0]
    assert template["Resources"][queue]["Type"] == "AWS::SQS::Queue"


def test_the_logs_go_to_a_log_group_with_retention(template, function):
    log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]

    properties = template["Resources"][log_group]["Properties"]

    assert template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
    assert properties["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_an_alarm_watches_the_function_errors(template):
    alarms = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]

    assert any(
        alarm["Namespace"] == "AWS/Lambda"
        and alarm["MetricName"] == "Errors"
        and {"Name": "FunctionName", "Value": {"Ref": "SweeperFunction"}} in alarm["Dimensions"]
        for alarm in alarms
    )


def test_the_outputs_name_the_function_the_rule_and_the_queue(template):
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}

    assert outputs["FunctionName"] == {"Ref": "SweeperFunction"}
    # SAM names a Schedule event's rule <function logical id><event logical id>.
    assert outputs["ScheduleRuleName"] == {"Ref": "SweeperFunctionSweepSchedule"}
    assert outputs["FailedSweepsQueueUrl"] == {"Ref": "FailedSweepsQueue"}


def wake_resources(template: dict) -> dict:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if name.startswith("Wake")
    }


def test_close_on_time_is_on_by_default_and_sets_the_wake_up_settings_only_when_on(template, function):
    variables = function["Properties"]["Environment"]["Variables"]

    assert template["Parameters"]["CloseOnTime"]["Default"] == "true"
    assert template["Conditions"]["CloseOnTimeEnabled"] == {
        "Fn::Equals": [{"Ref": "CloseOnTime"}, "true"]
    }
    assert variables["WAKE_SCHEDULE_NAME"] == {
        "Fn::If": ["CloseOnTimeEnabled", {"Fn::Sub": "${AWS::StackName}-wake"}, ""]
    }
    assert variables["WAKE_ROLE_ARN"] == {
        "Fn::If": ["CloseOnTimeEnabled", {"Fn::GetAtt": ["WakeRole", "Arn"]}, ""]
    }
    assert {resource["Condition"] for resource in wake_resources(template).values()} == {
        "CloseOnTimeEnabled"
    }


def test_the_scheduler_role_may_only_invoke_this_function(template):
    resources = wake_resources(template)
    trust = resources["WakeRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    policy = resources["WakeRoleInvokePolicy"]["Properties"]

    assert [statement["Principal"] for statement in trust] == [
        {"Service": "scheduler.amazonaws.com"}
    ]
    assert "Policies" not in resources["WakeRole"]["Properties"]
    assert policy["RoleName"] == {"Ref": "WakeRole"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == {"Fn::GetAtt": ["SweeperFunction", "Arn"]}


def test_the_wake_up_target_gets_the_failed_sweeps_queue_and_a_short_retry_policy(template, function):
    variables = function["Properties"]["Environment"]["Variables"]
    parameters = template["Parameters"]

    assert variables["WAKE_DEAD_LETTER_ARN"] == {
        "Fn::If": ["CloseOnTimeEnabled", {"Fn::GetAtt": ["FailedSweepsQueue", "Arn"]}, ""]
    }
    assert variables["WAKE_RETRY_ATTEMPTS"] == {"Ref": "WakeRetryAttempts"}
    assert variables["WAKE_MAX_EVENT_AGE_SECONDS"] == {"Ref": "WakeMaxEventAgeSeconds"}
    # Short: far below the scheduler's own defaults of 185 retries over a day.
    assert int(parameters["WakeRetryAttempts"]["Default"]) <= 3
    assert int(parameters["WakeMaxEventAgeSeconds"]["Default"]) <= 600


def test_the_scheduler_role_may_send_only_to_the_failed_sweeps_queue(template):
    policy = wake_resources(template)["WakeRoleDeadLetterPolicy"]["Properties"]

    assert policy["RoleName"] == {"Ref": "WakeRole"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["FailedSweepsQueue", "Arn"]}


def test_the_function_may_write_only_its_one_wake_schedule_and_pass_only_the_wake_role(template):
    policy = wake_resources(template)["WakeSchedulePolicy"]["Properties"]
    write, pass_role = policy["PolicyDocument"]["Statement"]

    assert policy["RoleName"] == {"Ref": "SweeperFunctionRole"}
    assert sorted(write["Action"]) == [
        "scheduler:CreateSchedule",
        "scheduler:GetSchedule",
        "scheduler:UpdateSchedule",
    ]
    assert write["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}"
        ":schedule/${WakeScheduleGroup}/${AWS::StackName}-wake"
    }
    assert pass_role["Action"] == "iam:PassRole"
    assert pass_role["Resource"] == {"Fn::GetAtt": ["WakeRole", "Arn"]}
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }


def test_lifecycle_events_are_off_by_default_and_put_only_on_the_one_named_bus(template, function):
    policy = template["Resources"]["EventBusPublishPolicy"]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    condition, arn, name = statement["Resource"]["Fn::If"]

    assert template["Parameters"]["EventBusName"]["Default"] == ""
    assert function["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == {
        "Ref": "EventBusName"
    }
    # Nothing is granted when no bus is named.
    assert policy["Condition"] == "EventBusEnabled"
    assert template["Conditions"]["EventBusEnabled"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "EventBusName"}, ""]}]
    }
    assert policy["Properties"]["RoleName"] == {"Ref": "SweeperFunctionRole"}
    assert statement["Action"] == "events:PutEvents"
    assert template["Conditions"][condition] == {
        "Fn::Equals": [{"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "EventBusName"}]}]}, "arn"]
    }
    assert arn == {"Ref": "EventBusName"}
    # A name (default included) is the bus of that name in the stack's account and region.
    assert name == {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}"
        ":event-bus/${EventBusName}"
    }
    assert statement["Condition"] == {"StringEquals": {"events:source": "session-sweeper"}}


@pytest.mark.parametrize(
    "value",
    ["", "default", "session-events", "arn:aws:events:eu-west-1:123456789012:event-bus/session-events"],
)
def test_event_bus_name_accepts_empty_default_a_name_or_an_arn(template, value):
    pattern = template["Parameters"]["EventBusName"]["AllowedPattern"]

    assert re.fullmatch(pattern, value)


@pytest.mark.parametrize(
    "value", ["session events", "arn:aws:sqs:eu-west-1:123456789012:queue", "bus*"]
)
def test_event_bus_name_refuses_what_eventbridge_would_refuse(template, value):
    pattern = template["Parameters"]["EventBusName"]["AllowedPattern"]

    assert not re.fullmatch(pattern, value)
