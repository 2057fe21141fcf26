//! The secret is validated field by field and never shown in Debug output or errors.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

use super::*;
use secrecy::ExposeSecret;

const SECRET: &str = "s3cr3t-value-that-must-not-leak";

fn secret_json(overrides: &[(&str, Value)]) -> String {
    let mut fields = serde_json::json!({
        "tenant_id": "contoso.onmicrosoft.com",
        "client_id": "11111111-2222-3333-4444-555555555555",
        "client_secret": SECRET,
        "environment_url": "https://contoso.crm.dynamics.com/",
    });
    for (name, value) in overrides {
        if value.is_null() {
            fields.as_object_mut().unwrap().remove(*name);
        } else {
            fields[*name] = value.clone();
        }
    }
    fields.to_string()
}

#[test]
fn a_complete_secret_is_read_with_the_public_authority_by_default() {
    let creds = DataverseCredentials::from_secret_json("id", &secret_json(&[])).unwrap();
    assert_eq!(
        creds.environment_url.as_str(),
        "https://contoso.crm.dynamics.com/"
    );
    assert_eq!(
        creds.authority_url.as_str(),
        "https://login.microsoftonline.com/"
    );
    assert_eq!(creds.client_secret.expose_secret(), SECRET);
}

#[test]
fn debug_output_never_shows_the_client_secret() {
    let creds = DataverseCredentials::from_secret_json("id", &secret_json(&[])).unwrap();
    assert!(!format!("{creds:?}").contains(SECRET));
}

#[test]
fn each_missing_or_empty_field_is_named() {
    for field in ["tenant_id", "client_id", "client_secret", "environment_url"] {
        for value in [
            Value::Null,
            Value::String("  ".into()),
            serde_json::json!(7),
        ] {
            let error = DataverseCredentials::from_secret_json(
                "my/secret",
                &secret_json(&[(field, value)]),
            )
            .unwrap_err();
            let message = error.to_string();
            assert!(message.contains(field), "{message}");
            assert!(message.contains("my/secret"), "{message}");
            assert!(!message.contains(SECRET), "{message}");
        }
    }
}

#[test]
fn a_secret_that_is_not_a_json_object_is_refused_without_echoing_it() {
    for text in [
        SECRET,
        "[1,2]",
        "{\"client_secret\": \"s3cr3t-value-that-must-not-leak\"",
    ] {
        let error = DataverseCredentials::from_secret_json("my/secret", text).unwrap_err();
        assert!(matches!(error, CredentialsError::NotJson { .. }));
        assert!(!error.to_string().contains(SECRET));
    }
}

#[test]
fn plain_http_is_refused_except_on_loopback() {
    let remote = secret_json(&[("environment_url", "http://contoso.crm.dynamics.com".into())]);
    let error = DataverseCredentials::from_secret_json("id", &remote).unwrap_err();
    assert!(matches!(
        error,
        CredentialsError::BadUrl {
            field: "environment_url",
            ..
        }
    ));

    let authority = secret_json(&[("authority_url", "http://login.example.com".into())]);
    let error = DataverseCredentials::from_secret_json("id", &authority).unwrap_err();
    assert!(matches!(
        error,
        CredentialsError::BadUrl {
            field: "authority_url",
            ..
        }
    ));

    for local in [
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        let json = secret_json(&[
            ("environment_url", local.into()),
            ("authority_url", local.into()),
        ]);
        assert!(
            DataverseCredentials::from_secret_json("id", &json).is_ok(),
            "{local}"
        );
    }
}

#[test]
fn an_environment_url_with_a_path_is_refused_with_what_to_write() {
    let json = secret_json(&[(
        "environment_url",
        "https://org.crm.dynamics.com/api/data/v9.2".into(),
    )]);

    let error = DataverseCredentials::from_secret_json("my/secret", &json).unwrap_err();

    assert!(matches!(
        error,
        CredentialsError::BadUrl {
            field: "environment_url",
            ..
        }
    ));
    let message = error.to_string();
    assert!(message.contains("environment_url"), "{message}");
    assert!(
        message.contains("write https://org.crm.dynamics.com,"),
        "{message}"
    );
    assert!(message.contains("/api/data/v9.2"), "{message}");
}

#[test]
fn an_environment_url_with_only_a_slash_for_path_is_accepted() {
    for url in [
        "https://org.crm.dynamics.com",
        "https://org.crm.dynamics.com/",
    ] {
        let json = secret_json(&[("environment_url", url.into())]);
        let credentials = DataverseCredentials::from_secret_json("id", &json).unwrap();
        assert_eq!(
            credentials.environment_url.as_str(),
            "https://org.crm.dynamics.com/"
        );
    }
}

#[test]
fn a_url_with_a_query_or_another_scheme_is_refused() {
    for url in [
        "https://contoso.crm.dynamics.com/?x=1",
        "ftp://contoso",
        "contoso.crm.dynamics.com",
    ] {
        let json = secret_json(&[("environment_url", url.into())]);
        assert!(
            DataverseCredentials::from_secret_json("id", &json).is_err(),
            "{url}"
        );
    }
}

#[test]
fn an_environment_url_with_any_userinfo_is_refused_by_field_without_echoing_it() {
    for url in [
        "https://:pw-that-must-not-leak@contoso.crm.dynamics.com",
        "https://user-that-must-not-leak@contoso.crm.dynamics.com",
        "https://user-that-must-not-leak:pw-that-must-not-leak@contoso.crm.dynamics.com/",
    ] {
        let json = secret_json(&[("environment_url", url.into())]);

        let error = DataverseCredentials::from_secret_json("my/secret", &json).unwrap_err();

        assert!(
            matches!(
                error,
                CredentialsError::BadUrl {
                    field: "environment_url",
                    ..
                }
            ),
            "{url}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("environment_url"), "{message}");
        assert!(!message.contains("must-not-leak"), "{message}");
        assert!(!format!("{error:?}").contains("must-not-leak"), "{error:?}");
    }
}
