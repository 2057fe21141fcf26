//! The README's settings table and `template.yaml` agree with the settings specs, so no
//! default, range or setting can drift between the code and its documentation.

use session_sweeper::settings::{Form, SPECS};

const README: &str = include_str!("../../README.md");
const TEMPLATE: &str = include_str!("../../template.yaml");

/// The README table row of `name`: its cells after the first.
fn readme_row(name: &str) -> Option<Vec<&'static str>> {
    README
        .lines()
        .find(|line| line.starts_with(&format!("| `{name}` [")))
        .map(|line| line.split(" | ").skip(1).collect())
}

/// The lines of the template parameter `parameter`, up to the next parameter.
fn template_parameter(parameter: &str) -> Vec<&'static str> {
    let header = format!("  {parameter}:");
    let mut lines = TEMPLATE.lines().skip_while(|line| *line != header);
    lines.next();
    lines.take_while(|line| line.starts_with("    ")).collect()
}

fn template_value(parameter: &str, key: &str) -> Option<String> {
    let prefix = format!("    {key}: ");
    template_parameter(parameter)
        .into_iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().trim_matches('"').to_owned())
}

#[test]
fn every_setting_is_in_the_readme_table_with_its_parameter_and_default() {
    for spec in SPECS {
        let row = readme_row(spec.name).unwrap_or_else(|| panic!("{} not in README", spec.name));
        let line = README
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` [", spec.name)))
            .unwrap();
        assert!(
            line.starts_with(&format!("| `{}` [{}] |", spec.name, spec.parameter)),
            "{line}"
        );
        match spec.default {
            Some(default) => assert!(
                row[0].starts_with(&format!("`{default}`")),
                "README default of {}: {}",
                spec.name,
                row[0]
            ),
            None => assert!(
                row[0].starts_with("required") || row[0].starts_with("unset"),
                "{}",
                spec.name
            ),
        }
    }
    let rows = README
        .lines()
        .filter(|line| line.starts_with("| `") && line.contains("` ["))
        .count();
    assert_eq!(
        rows,
        SPECS.len(),
        "the README lists settings the code does not read"
    );
}

#[test]
fn every_setting_is_a_template_parameter_passed_to_the_function() {
    for spec in SPECS {
        if spec.form == Form::LogFilter {
            assert!(
                TEMPLATE.contains(&format!(
                    "        ApplicationLogLevel: !Ref {}\n",
                    spec.parameter
                )),
                "{} is not the LoggingConfig's level in template.yaml",
                spec.parameter
            );
            continue;
        }
        // A setting a switch parameter turns on (CloseOnTime) is set under its condition.
        let direct = format!("          {}: !Ref {}\n", spec.name, spec.parameter);
        let switched = format!("          {}: !If [{}Enabled, ", spec.name, spec.parameter);
        assert!(
            TEMPLATE.contains(&direct) || TEMPLATE.contains(&switched),
            "{} is not set from {} in template.yaml",
            spec.name,
            spec.parameter
        );
        assert!(
            !template_parameter(spec.parameter).is_empty(),
            "{}",
            spec.parameter
        );
    }
}

#[test]
fn template_defaults_and_ranges_are_the_settings_defaults_and_ranges() {
    for spec in SPECS {
        let default = template_value(spec.parameter, "Default");
        match spec.default {
            Some(expected) => assert_eq!(default.as_deref(), Some(expected), "{}", spec.parameter),
            // A required setting may have a template default (the secret's usual name).
            None if spec.form == Form::OptionalName => {
                assert_eq!(default.as_deref(), Some(""), "{}", spec.parameter)
            }
            None => {}
        }
        if let Form::Number { min, max } = spec.form {
            for (key, bound) in [("MinValue", min), ("MaxValue", max)] {
                if let Some(value) = template_value(spec.parameter, key) {
                    assert_eq!(value, bound.to_string(), "{} {key}", spec.parameter);
                }
            }
        }
    }
}
