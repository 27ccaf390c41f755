//! A host whose clock runs ten minutes fast: the fake GitHub judges the App's JWT as GitHub
//! does (`iat` at most a minute in its future, `exp` at most ten minutes after `iat`), so a JWT
//! signed by the host's clock is refused. upkeep learns GitHub's time from the refusal's `Date`
//! header, signs again by it, and works: the App installs, the first pass opens its PRs and a
//! command is answered; each App request made before GitHub first answered is refused once. Its own binary: it moves the clock of
//! the whole process.

mod commands_world;
mod common;

use std::time::Duration;

use commands_world::*;

#[tokio::test]
async fn with_a_clock_ten_minutes_fast_app_requests_still_succeed() {
    if common::shared_dir().is_none() {
        return;
    }
    upkeep::time::skip_ahead(Duration::from_secs(600));
    let world = World::new(CONFIG).await.unwrap();
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let before = world.replies(pr).len();
    world.say(pr, "visitor", "@upkeep help").await;
    assert_eq!(world.replies(pr).len(), before + 1);

    let calls = world.github.calls();
    // Requests made as the App before any answer came back (the token exchange, the delivery
    // sweep and the App's drift check start together) are each refused once, then signed
    // again and accepted.
    let refused: Vec<String> = calls
        .iter()
        .filter(|c| c.status == 401)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert!(refused.len() <= 3, "{refused:?}");
    for r in &refused {
        assert_eq!(
            refused.iter().filter(|x| *x == r).count(),
            1,
            "refused once, not again: {refused:?}"
        );
        let at = calls
            .iter()
            .position(|c| format!("{} {}", c.method, c.path) == *r)
            .unwrap();
        assert!(
            calls[at + 1..]
                .iter()
                .any(|c| format!("{} {}", c.method, c.path) == *r && c.status < 300),
            "{r} accepted when signed again"
        );
    }
    let tokens = calls
        .iter()
        .filter(|c| c.path.ends_with("/access_tokens") && c.status == 201)
        .count();
    assert!(tokens >= 1, "an installation token was minted by the App");
    world.github.assert_conformant();
}
