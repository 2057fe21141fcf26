//! One integration binary: the real handler against dataverse-sim and moto's Secrets Manager.

mod refusals;
mod scenarios;
mod support;
