//! Weekly health reports: `weekly` (pure: facts → the dashboard's section and the operator's
//! issue), `gather` (the week's facts from the store), `record` (facts as they happen: upkeep's
//! PRs from webhooks) and `post` (the operator's issue in `UPKEEP_OPS_REPO`, once a week).

pub mod gather;
pub mod post;
pub mod record;
pub mod weekly;
