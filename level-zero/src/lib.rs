//! Safe bindings (work in progress).
