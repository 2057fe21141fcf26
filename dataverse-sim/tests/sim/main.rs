//! End-to-end behaviour of the simulator over real HTTP, one behaviour per test; one test
//! binary, one module per part of the API.

mod actions;
mod auth;
mod change_sets;
mod clock;
mod creates;
mod dates;
mod faults;
mod metadata;
mod reads;
mod support;
mod writes;
