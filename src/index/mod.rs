//! The registry's sparse index (issue 4). So far the pure parts: where a crate's index file
//! lives, and what one line of it says. The HTTP client with its shared ETag cache comes next.

pub mod entry;
pub mod path;

pub use entry::{parse_index_file, IndexEntry, IndexError};
pub use path::index_path;
