//! Raw handles that may cross threads.

/// A Level Zero handle, made `Send + Sync`.
///
/// A handle is an opaque identifier; moving or sharing the identifier itself is harmless.
/// Whether the *object* may be used from several threads at once is the business of the
/// safe type that owns the handle, which documents it and restricts its own `Send`/`Sync`
/// (or takes `&mut self`) where the Level Zero threading rules require.
#[derive(Debug)]
pub(crate) struct Handle<T>(pub *mut T);

impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<T> Eq for Handle<T> {}
impl<T> std::hash::Hash for Handle<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}

// SAFETY: see the type's documentation: the wrapper only carries the identifier; every
// owner restricts concurrent use of the object as Level Zero requires.
unsafe impl<T> Send for Handle<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Handle<T> {}
