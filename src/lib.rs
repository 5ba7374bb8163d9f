//! Examples, whole-stack tests and benchmarks of the level-zero workspace.
