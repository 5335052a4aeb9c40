//! Telling the people who are not looking: operator alerts (`[[notify]]`) and viewers'
//! subscriptions, through a durable outbox.

pub mod config;
pub mod event;
