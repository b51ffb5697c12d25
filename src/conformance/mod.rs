//! Conformance suites for the two traits an embedder may implement, [`Fs`]
//! and [`BackupStore`]: the tests cairndb runs on its own implementations,
//! published so an outside implementation can run them too (behind the
//! `conformance` feature; the model is `object_store`'s `integration`
//! module). They panic on failure, like the assertions of a test.
//!
//! [`Fs`]: crate::fs::Fs
//! [`BackupStore`]: crate::backup::BackupStore

pub mod backup_store;
pub mod fs;
