//! Comment commands: the parser lives in the `upkeep-commands` crate (pure, fuzzed on its own);
//! `run` carries commands out (claims, replies, rate limits) and `ignore_pr` keeps the
//! configuration PR that `@upkeep ignore` asks for.

pub mod conversation;
pub mod ignore_pr;
pub mod run;

pub use upkeep_commands::*;
