//! CPU driver (work in progress).
