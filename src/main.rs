//! The Lambda entry point: wiring only.

// The runtime's service future holds the handler's nested futures; computing its layout goes
// deeper than rustc's default limit of 128.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use session_sweeper::handler::{handle, App};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    session_sweeper::logging::init();
    let app = match App::from_env().await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(error = %error, "cannot start");
            return Err(error.into());
        }
    };
    tracing::info!("ready");
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(&app, event))).await
}
