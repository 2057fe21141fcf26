//! Where a request may go and how long a throttled one waits. The client secret and the bearer
//! token travel in these requests, so nothing leaves over plain `http://` except to this
//! machine, and no redirect is ever followed: a 307 or 308 would post the client secret again
//! to wherever the `Location` points.

use super::DataverseError;
use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Response, Url};
use std::time::Duration;

/// The one HTTP client: a timeout per request and per connection, and no redirects.
pub(crate) fn http_client(request_timeout: Duration) -> Result<reqwest::Client, DataverseError> {
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(50))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| DataverseError::internal("cannot build the HTTP client", error))
}

/// Refuses, before anything is sent, a URL that would carry credentials in clear text.
pub(crate) fn check_destination(url: &Url) -> Result<(), DataverseError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::credentials::is_loopback(url) => Ok(()),
        _ => Err(DataverseError::InsecureUrl {
            host: url.host_str().unwrap_or_default().to_owned(),
        }),
    }
}

/// The error for a redirect answer, naming the host that sent it and where it pointed.
pub(crate) fn redirected(response: &Response) -> DataverseError {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| response.url().join(text).ok())
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "an unnamed address".to_owned());
    DataverseError::Redirected {
        host: response.url().host_str().unwrap_or_default().to_owned(),
        status: response.status().as_u16(),
        location,
    }
}

/// How long a 429 asks to wait: `Retry-After` as delay-seconds or as an HTTP date (RFC 9110
/// §10.2.3), measured from `now`; `None` when the header is absent or unreadable. A date in
/// the past means no wait.
pub(crate) fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = http_date(text)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The recommended degree of parallelism in `x-ms-dop-hint`; `None` when absent, unreadable
/// or zero.
pub(crate) fn dop_hint(headers: &HeaderMap) -> Option<usize> {
    let text = headers.get("x-ms-dop-hint")?.to_str().ok()?;
    text.trim().parse::<usize>().ok().filter(|hint| *hint > 0)
}

/// The three date formats RFC 9110 requires a recipient to accept: IMF-fixdate, and the
/// obsolete RFC 850 and asctime forms.
fn http_date(text: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 3] = [
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ];
    FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap()
    }

    fn wait(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        retry_after(&headers, now())
    }

    fn hint(value: &str) -> Option<usize> {
        let mut headers = HeaderMap::new();
        headers.insert("x-ms-dop-hint", HeaderValue::from_str(value).unwrap());
        dop_hint(&headers)
    }

    #[test]
    fn the_dop_hint_is_read_as_a_whole_number() {
        assert_eq!(hint("8"), Some(8));
        assert_eq!(hint(" 2 "), Some(2));
    }

    #[test]
    fn a_missing_zero_or_unreadable_dop_hint_is_ignored() {
        assert_eq!(dop_hint(&HeaderMap::new()), None);
        assert_eq!(hint("0"), None);
        assert_eq!(hint("-3"), None);
        assert_eq!(hint("four"), None);
    }

    #[test]
    fn retry_after_in_seconds_is_read_as_seconds() {
        assert_eq!(wait("5"), Some(Duration::from_secs(5)));
        assert_eq!(wait(" 120 "), Some(Duration::from_secs(120)));
    }

    #[test]
    fn retry_after_as_an_imf_fixdate_waits_until_that_instant() {
        assert_eq!(
            wait("Wed, 21 Oct 2015 07:28:05 GMT"),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn retry_after_in_the_obsolete_date_forms_is_read_too() {
        assert_eq!(
            wait("Wednesday, 21-Oct-15 07:28:05 GMT"),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            wait("Wed Oct 21 07:28:05 2015"),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn a_retry_after_date_in_the_past_means_no_wait() {
        assert_eq!(wait("Wed, 21 Oct 2015 07:27:00 GMT"), Some(Duration::ZERO));
    }

    #[test]
    fn an_unreadable_retry_after_is_ignored() {
        for value in ["soon", "-5", "1.5", "Wed, 21 Oct 2015 07:28:05", ""] {
            assert_eq!(wait(value), None, "{value:?}");
        }
        assert_eq!(retry_after(&HeaderMap::new(), now()), None);
    }

    #[tokio::test]
    async fn the_client_does_not_follow_a_redirect() {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path("/token"))
            .respond_with(
                wiremock::ResponseTemplate::new(307).insert_header("Location", "/elsewhere"),
            )
            .mount(&server)
            .await;
        wiremock::Mock::given(wiremock::matchers::path("/elsewhere"))
            .respond_with(wiremock::ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let client = http_client(Duration::from_secs(5)).unwrap();

        let response = client
            .post(format!("{}/token", server.uri()))
            .send()
            .await
            .unwrap();

        assert_eq!(response.status().as_u16(), 307);
    }

    #[tokio::test]
    async fn a_request_slower_than_the_request_timeout_fails_as_timed_out() {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path("/slow"))
            .respond_with(wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
            .mount(&server)
            .await;
        let client = http_client(Duration::from_millis(200)).unwrap();

        let error = client
            .get(format!("{}/slow", server.uri()))
            .send()
            .await
            .unwrap_err();

        assert!(error.is_timeout(), "{error:?}");
    }

    #[test]
    fn plain_http_is_refused_unless_the_host_is_this_machine() {
        for url in [
            "https://contoso.crm.dynamics.com/",
            "http://127.0.0.1:8080/",
            "http://localhost:1/",
            "http://[::1]:9/",
        ] {
            assert!(
                check_destination(&Url::parse(url).unwrap()).is_ok(),
                "{url}"
            );
        }
        let error = check_destination(&Url::parse("http://contoso.crm.dynamics.com/x").unwrap())
            .unwrap_err();
        assert!(
            matches!(&error, DataverseError::InsecureUrl { host } if host == "contoso.crm.dynamics.com"),
            "{error:?}"
        );
    }
}
