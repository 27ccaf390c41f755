//! The registry's sparse index (issue 4): where a crate's file lives, what one line of it says,
//! and the HTTP client whose ETag cache every repository shares.

pub mod client;
pub mod entry;
pub mod meta;
pub mod path;
pub mod registries;

pub use client::{Answered, IndexClient, IndexFetchError, CRATES_IO};
pub use entry::{parse_index_file, IndexEntry, IndexError};
pub use path::index_path;
