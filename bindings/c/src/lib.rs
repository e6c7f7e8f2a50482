//! C library over svcroute (being written).
