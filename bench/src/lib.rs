//! LockBox benchmarks: each measure runs next to its baseline in the same run, and the table
//! goes to `docs/BENCHMARKS.md`.
