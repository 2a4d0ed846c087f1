//! Thread priorities for background work that must not compete with answering requests.
#![allow(unsafe_code)] // setpriority(2) on the calling thread; see below.

/// Lowers the calling thread's scheduling priority (nice 10). Linux applies `setpriority` with a thread
/// id to that thread alone. Failure leaves the priority unchanged, which is harmless.
pub fn lower_current_thread_priority() {
    // SAFETY: gettid and setpriority take and return plain integers and touch no memory of ours.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, u32::try_from(tid).unwrap_or(0), 10);
    }
}
