//! `status`: what this build supports and what the running kernel offers.

pub mod kernel;
