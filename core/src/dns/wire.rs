//! DNS messages on the wire (RFC 1035).
