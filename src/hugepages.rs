//! Large buffers backed by huge pages where the system allows. Code that
//! fills tens of megabytes at once (decompressing a dump) otherwise spends
//! about a third of its time in page faults, one per 4 KiB page.

/// Below this, a buffer cannot hold a whole 2 MiB huge page.
const HUGE_PAGE: usize = 2 << 20;

/// `len` zero bytes, backed by huge pages where possible.
pub fn zeroed(len: usize) -> Vec<u8> {
    // calloc: a fresh mapping is not touched until written.
    let buffer = vec![0u8; len];
    advise(&buffer);
    buffer
}

/// Asks for huge pages under the whole allocation of `vec` (its capacity),
/// before it is written. Only advice: a refusal leaves ordinary pages.
#[allow(clippy::ptr_arg)] // the capacity, not just the length, is advised
pub fn advise<T>(vec: &Vec<T>) {
    let len = vec.capacity() * std::mem::size_of::<T>();
    if len < HUGE_PAGE {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let start = (vec.as_ptr() as usize).next_multiple_of(page);
        let end = (vec.as_ptr() as usize + len) / page * page;
        // SAFETY: advice on whole pages inside the vector's own allocation;
        // it changes how they are backed, never what they hold.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
}
