//! WASM package over svcroute (being written).
