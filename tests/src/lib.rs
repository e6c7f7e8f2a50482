//! Shared support for svcroute's integration tests.
