//! Identifiers. Primary keys are UUIDv7: time-ordered, so inserts stay local in B-tree indexes and ids
//! sort by creation.

use uuid::Uuid;

/// A new UUIDv7.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_7_and_increase() {
        let a = new_id();
        let b = new_id();
        assert_eq!(a.get_version_num(), 7);
        assert!(b > a);
    }
}
