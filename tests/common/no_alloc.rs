//! The allocation check shared by the no-allocation tests (included with
//! `#[path = "common/no_alloc.rs"] mod no_alloc_check;`, only in test binaries that link the counting
//! allocator of the `allocation-counter` dev-dependency).

/// Runs `f` and asserts it allocated nothing on this thread; returns its result.
#[track_caller]
pub(crate) fn no_alloc<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let mut out = None;
    let info = allocation_counter::measure(|| out = Some(f()));
    assert_eq!(
        info.count_total, 0,
        "{what} allocated {} times ({} bytes)",
        info.count_total, info.bytes_total
    );
    out.unwrap()
}
