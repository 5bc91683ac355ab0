//! Asking the kernel to map memory before it is read or written. Touching a
//! fresh page costs a page fault each (fault-around maps 16 pages of a
//! mapped file at a time); one `MADV_POPULATE_READ`/`_WRITE` call maps a
//! whole range without them, and on another thread it overlaps with work.
//! Only advice: where the kernel refuses (before Linux 5.14, other systems),
//! the pages fault in on first use as usual.

/// Maps the whole pages inside `bytes` readable (a file map's pages come
/// from the page cache).
pub fn read(bytes: &[u8]) {
    #[cfg(target_os = "linux")]
    advise(
        bytes.as_ptr() as usize,
        bytes.len(),
        libc::MADV_POPULATE_READ,
    );
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}

/// Maps the whole pages inside the allocation of `vec` (its capacity)
/// writable: a fresh, zeroed allocation gets its pages at once.
#[allow(clippy::ptr_arg)] // the capacity, not just the length, is populated
pub fn write<T>(vec: &mut Vec<T>) {
    #[cfg(target_os = "linux")]
    advise(
        vec.as_mut_ptr() as usize,
        vec.capacity() * std::mem::size_of::<T>(),
        libc::MADV_POPULATE_WRITE,
    );
    #[cfg(not(target_os = "linux"))]
    let _ = vec;
}

#[cfg(target_os = "linux")]
fn advise(address: usize, len: usize, advice: libc::c_int) {
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let start = address.next_multiple_of(page);
    let end = (address + len) / page * page;
    if start < end {
        // SAFETY: whole pages inside memory the caller borrows; populating
        // maps them, it never changes what they hold.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, advice) };
    }
}
