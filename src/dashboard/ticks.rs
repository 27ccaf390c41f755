//! Ticks on the dashboard issue: a person with write access ticked a box (create a held PR,
//! rebase one), and the dependency pass does it and unticks it; closing the issue turns the
//! dashboard off, reopening turns it on again.

use crate::handles::Handles;
use crate::queue::scheduler::DEPS_JOB;
use crate::queue::worker::JobError;
use crate::time::now_ms;
use crate::webhook::events;

/// A person ticked a box on the dashboard (the pass does it and unticks it), closed it
/// (dashboard off) or reopened it (on again, refreshed).
pub async fn on_dashboard(h: &Handles, e: &events::IssuesEvent) -> Result<&'static str, JobError> {
    let id = e.repository.id;
    match e.action.as_str() {
        "closed" => {
            h.store.set_dashboard_off(id, true, now_ms()).await?;
            return Ok("dashboard off");
        }
        "reopened" => {
            h.store.set_dashboard_off(id, false, now_ms()).await?;
            crate::audit::triggers::enqueue_pass(
                &h.store,
                DEPS_JOB,
                id,
                &format!("dashboard:{}", now_ms()),
                now_ms(),
            )
            .await?;
            return Ok("dashboard on");
        }
        "edited" => {}
        _ => return Ok("recorded"),
    }
    let actions = crate::dashboard::ticked(e.issue.body.as_deref().unwrap_or_default());
    let (Some(installation), Some(github), false) =
        (e.installation.as_ref(), h.github(), actions.is_empty())
    else {
        return Ok("dashboard edited");
    };
    let closed = e.issue.state.as_deref() == Some("closed");
    let client = github.installation(installation.id);
    let repo = crate::github::repo::Repo::new(&client, &e.repository.full_name);
    let level = h
        .permissions
        .level(&repo, &e.repository.full_name, &e.sender.login)
        .await?;
    if closed || !crate::commands::WRITE_LEVELS.contains(&level.as_str()) {
        // Ticks count only from people who may change things, on a dashboard that is on.
        return Ok("dashboard tick ignored");
    }
    let mut options = crate::commands::run::pass_options(&h.store, id).await?;
    options.deps = true;
    options.dashboard = Some(true);
    for a in actions {
        match a {
            crate::dashboard::Action::Create(branch) => {
                options.create_now.insert(branch);
            }
            crate::dashboard::Action::Rebase(number) => {
                if let Ok((p, _, _)) = repo.pull(number).await {
                    options.rebuild.insert(p.head_ref);
                }
            }
        }
    }
    match h
        .deps
        .run_with(&client, &e.repository.full_name, &options)
        .await
    {
        Ok(_) => Ok("dashboard actions done"),
        Err(e) => Err(JobError::from(e)),
    }
}
