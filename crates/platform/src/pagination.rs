//! Cursor pagination for every list: `?limit=&cursor=` in, `{items, next_cursor}` out.
//!
//! A cursor is the opaque, URL-safe encoding of the sort key of the last item returned (for example its
//! UUIDv7 id, or a timestamp and id). Keyset paging stays fast at any depth and never skips or repeats a
//! row when rows are inserted between pages.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to return (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// The requested limit, checked against its bounds.
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => {
                Err(ApiError::invalid_field("limit", "out_of_range", format!("must be between 1 and {MAX_LIMIT}")))
            }
        }
    }

    /// The decoded cursor, if any (an empty `cursor=` means the first page).
    pub fn cursor<T: for<'de> Deserialize<'de>>(&self) -> Result<Option<T>, ApiError> {
        self.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says that there is more.
    pub fn from_overfetch<K: Serialize>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> K) -> Self {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Self { items: rows, next_cursor }
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    let json = serde_json::to_vec(key).unwrap_or_default();
    crate::hex::encode(&json)
}

pub fn decode_cursor<T: for<'de> Deserialize<'de>>(cursor: &str) -> Result<T, ApiError> {
    let invalid = || ApiError::invalid_field("cursor", "invalid_cursor", "is not a cursor this list returned");
    if cursor.len() > 1024 {
        return Err(invalid());
    }
    let bytes = crate::hex::decode(cursor).ok_or_else(invalid)?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_bounds() {
        let p = |limit| PageParams { limit, cursor: None };
        assert_eq!(p(None).limit().unwrap(), DEFAULT_LIMIT);
        assert_eq!(p(Some(1)).limit().unwrap(), 1);
        assert_eq!(p(Some(MAX_LIMIT)).limit().unwrap(), MAX_LIMIT);
        assert_eq!(p(Some(0)).limit().unwrap_err().field_errors()[0].field, "limit");
        assert!(p(Some(MAX_LIMIT + 1)).limit().is_err());
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        let cursor = page.next_cursor.unwrap();
        assert_eq!(decode_cursor::<i32>(&cursor).unwrap(), 2);
        assert!(decode_cursor::<i32>("zz").is_err());
        assert!(decode_cursor::<i32>("abc").is_err());
        let empty = PageParams { limit: None, cursor: Some(String::new()) };
        assert_eq!(empty.cursor::<i32>().unwrap(), None);
        let last = Page::from_overfetch(vec![1, 2], 2, |n| *n);
        assert!(last.next_cursor.is_none());
    }
}
