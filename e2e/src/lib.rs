//! The end-to-end acceptance tests of `flatcar-kube` live in `tests/e2e`: one profile ->
//! `flatcar-kube up` (generate, terraform with our provider from a filesystem mirror, the
//! inventory) -> real ansible-core reads it -> day-2 changes -> `up --destroy` leaves nothing,
//! against the local cloud. They drive the workspace's built binaries (`cargo build --bins`,
//! as scripts/test.sh does) and need `FLATCAR_KUBE_ACCEPTANCE=1`. This library is empty.
