//! A list that keeps at most a limit of its items and an exact count of all of them, so that
//! the summary's JSON stays small whatever the org holds and its counts stay exact.

use std::ops::Deref;

/// At most `limit` items, the exact number pushed, and whether the list was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capped<T> {
    items: Vec<T>,
    total: usize,
    limit: usize,
}

impl<T> Capped<T> {
    /// An empty list that keeps at most `limit` items.
    pub fn new(limit: usize) -> Self {
        Capped {
            items: Vec::new(),
            total: 0,
            limit,
        }
    }

    /// Counts `item`, and keeps it while the list is not full.
    pub fn push(&mut self, item: T) {
        self.total += 1;
        if self.items.len() < self.limit {
            self.items.push(item);
        }
    }

    /// How many were pushed, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Whether some pushed items were not kept.
    pub fn truncated(&self) -> bool {
        self.total > self.items.len()
    }
}

/// The kept items, so that a capped list reads like the slice it lists.
impl<T> Deref for Capped<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_list_keeps_counting_and_says_it_was_cut() {
        let mut list = Capped::new(2);
        for n in 0..3 {
            list.push(n);
        }
        assert_eq!(
            (&list[..], list.total(), list.truncated()),
            (&[0, 1][..], 3, true)
        );
    }

    #[test]
    fn a_list_within_its_limit_is_not_cut() {
        let mut list = Capped::new(2);
        list.push("a");
        list.push("b");
        assert_eq!((list.len(), list.total(), list.truncated()), (2, 2, false));
    }
}
