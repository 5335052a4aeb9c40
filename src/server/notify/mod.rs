//! Telling the people who are not looking: operator alerts (`[[notify]]`) and viewers'
//! subscriptions, through a durable outbox.

pub mod address;
pub mod config;
pub mod deliver;
pub mod event;
pub mod mail;
pub mod payload;
pub mod smtp;
