//! Calendar dates: the project's one time model lives in `rewater-time`; re-exported here so
//! that standards' seasonal windows and their callers keep one `Date`.

pub use rewater_time::{days_in_month, Date, DateError};
