//! Shared helpers for svcroute's benches (synthetic clusters and inputs).
