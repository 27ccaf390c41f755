//! The charts upkeep serves as SVG: a public repository's benchmark trend (the check run's
//! table links it) and a signal's last hours (the ops issue links it).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::responses::error_response;
use super::state::AppState;

#[derive(serde::Deserialize)]
pub(super) struct ChartQuery {
    branch: String,
    runner: String,
    id: String,
}

/// A benchmark's trend on the default branch, as SVG (public repositories only: the numbers of
/// a private one are not served to anyone who knows the URL).
pub(super) async fn bench_chart(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(repository): axum::extract::Path<i64>,
    axum::extract::Query(q): axum::extract::Query<ChartQuery>,
) -> Response {
    let public = matches!(state.store.repository(repository).await, Ok(Some(r)) if !r.private);
    if !public {
        return error_response(StatusCode::NOT_FOUND, "no such public repository");
    }
    let sets = match state
        .store
        .bench_history(repository, &q.branch, &q.runner, "", 20)
        .await
    {
        Ok(s) => s,
        Err(_) => {
            return error_response(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
        }
    };
    let points: Vec<(String, f64)> = sets
        .iter()
        .filter_map(|(sha, ms)| Some((sha.clone(), ms.iter().find(|m| m.id == q.id)?.typical())))
        .collect();
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let (centre, band) = crate::bench::stats::centre_and_band(&values, 4);
    let svg = crate::bench::chart::svg(&q.id, &points, centre, band, None);
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "max-age=300"),
        ],
        svg,
    )
        .into_response()
}

/// `/status/signals/<signal>.svg`: a signal's last hours, with the threshold of its open
/// alert (the ops issue links it). Aggregates only, like `/status`.
pub(super) async fn signal_chart(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let Some(signal) = file
        .strip_suffix(".svg")
        .and_then(crate::alerts::signal::Signal::from_name)
    else {
        return error_response(StatusCode::NOT_FOUND, "no such signal");
    };
    let now = crate::time::now_ms();
    let from = now - crate::alerts::chart::HOURS * 3_600_000;
    let (Ok(points), Ok(open)) = (
        state
            .store
            .samples_between(signal.name(), from, now + 1)
            .await,
        crate::alerts::sampler::open_alerts(&state.store).await,
    ) else {
        return error_response(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    };
    let threshold = open
        .iter()
        .find(|a| a.signal == signal.name())
        .map(|a| a.threshold);
    let svg = crate::alerts::chart::svg(signal.name(), &points, threshold, (from, now));
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (axum::http::header::CACHE_CONTROL, "max-age=60"),
        ],
        svg,
    )
        .into_response()
}
