//! Locking state that every change leaves whole.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, going on when a thread panicked while holding it. For the caller to say why
/// that is sound: state changed in single steps (an insert, a push, a whole record) cannot be
/// left half-written by a panic, so its poison means nothing, and refusing every later request
/// over it would turn one panic into an outage.
pub fn ignoring_poison<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
