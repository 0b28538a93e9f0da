//! End-to-end tests: the real dispatcher against a fake Bot API server.

mod admin;
mod backup;
mod bad_input;
mod binary;
mod campaigns;
mod consultations;
mod counts;
mod crash;
mod digital;
mod fake_limits;
mod fake_telegram;
mod fake_zalo;
mod limits;
mod notices;
mod ops;
mod places;
mod support;

mod groups_and_roles;
mod job_crash;
mod process;
mod registration;
mod reports;
mod resilience;
mod roles;
mod scheduling;
mod scripts;
mod stats;
mod zalo;
mod zalo_groups;
