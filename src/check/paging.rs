//! The check reads the active sessions a page at a time and counts each page before asking
//! for the next, so its memory stays flat with the size of the org, as a sweep's does: a
//! page of 5,000 rows is held at most, never the whole table (about 130 MB at 450,000
//! sessions, over the template's 128 MB, when every row was collected first).

use super::sessions::Tally;
use crate::dataverse::{metadata, DataverseError, Org, ReadRow, SessionPages};
use std::ops::Deref;

/// Where the check reads active sessions from, one page at a time.
pub(super) trait SessionSource {
    /// One page of rows.
    type Page: Deref<Target = [ReadRow]>;

    /// The next page, or `None` after the last.
    async fn next_page(&mut self) -> Result<Option<Self::Page>, DataverseError>;
}

/// Every active session of the environment, as the sweep reads a candidate.
pub(super) struct ActiveSessions<'a> {
    org: &'a Org,
    pages: SessionPages,
}

impl<'a> ActiveSessions<'a> {
    /// The first position of the read.
    pub(super) fn new(org: &'a Org) -> Self {
        ActiveSessions {
            org,
            pages: metadata::active_sessions(org),
        }
    }
}

impl SessionSource for ActiveSessions<'_> {
    type Page = Vec<ReadRow>;

    async fn next_page(&mut self) -> Result<Option<Vec<ReadRow>>, DataverseError> {
        self.org.next_page(&mut self.pages).await
    }
}

/// Counts every page of `source` into `tally`, each page dropped before the next is read.
pub(super) async fn tally_pages<S: SessionSource>(
    source: &mut S,
    tally: &mut Tally<'_>,
) -> Result<(), DataverseError> {
    while let Some(page) = source.next_page().await? {
        page.iter().for_each(|row| tally.add(row));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataverse::SessionRow;
    use crate::ids::Guid;
    use crate::sweep::plan::tests::{configuration, settings};
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use serde_json::json;
    use std::cell::Cell;
    use std::rc::Rc;

    const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
    }

    /// A page that counts how many pages are alive at once.
    struct Counted {
        rows: Vec<ReadRow>,
        alive: Rc<Cell<usize>>,
    }

    impl Deref for Counted {
        type Target = [ReadRow];
        fn deref(&self) -> &[ReadRow] {
            &self.rows
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.alive.set(self.alive.get() - 1);
        }
    }

    /// `pages` pages of `rows` sessions each, quiet for two days, recording the most pages
    /// alive when a new one is made.
    struct Pages {
        left: usize,
        rows: usize,
        alive: Rc<Cell<usize>>,
        most_alive: usize,
    }

    impl SessionSource for Pages {
        type Page = Counted;

        async fn next_page(&mut self) -> Result<Option<Counted>, DataverseError> {
            if self.left == 0 {
                return Ok(None);
            }
            self.left -= 1;
            self.alive.set(self.alive.get() + 1);
            self.most_alive = self.most_alive.max(self.alive.get());
            let row = SessionRow {
                id: Guid::parse("00000000-0000-4000-8000-0000000000a1").unwrap(),
                etag: "W/\"1\"".into(),
                configuration_id: Some(Guid::parse(A).unwrap()),
                last_customer_message: Some(now() - Duration::days(2)),
                created_on: now() - Duration::days(3),
                statecode: 0,
                last_agent_message: None,
                warned_at: None,
                last_change: None,
            };
            Ok(Some(Counted {
                rows: vec![Ok(row); self.rows],
                alive: self.alive.clone(),
            }))
        }
    }

    #[tokio::test]
    async fn the_check_counts_every_page_while_holding_at_most_one() {
        let (settings, configurations) = (settings(None), [configuration(A, json!(1440))]);
        let mut tally = Tally::new(&settings, &configurations, now());
        let mut pages = Pages {
            left: 40,
            rows: 25,
            alive: Rc::new(Cell::new(0)),
            most_alive: 0,
        };
        tally_pages(&mut pages, &mut tally).await.unwrap();
        let (counts, _) = tally.finish();
        assert_eq!((counts.active_sessions, counts.would_close), (1_000, 1_000));
        assert_eq!(pages.most_alive, 1, "a page outlived its count");
        assert_eq!(pages.alive.get(), 0);
    }
}
