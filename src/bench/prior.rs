//! One pair of processes and no history: what `upkeep check` has when criterion's `base` and
//! `new` are all there is. Two runs of the same code in two processes move apart by far more
//! than one run's samples show (page placement, the allocator's history, a neighbour's slow
//! spell), so a change one pair shows is only called when it is larger than anything the noise
//! corpora (tests/fixtures/bench-noise*: four corpora, two sources, 26 496 ordered A/A pairs of
//! benchmarks recorded on the project's machines) ever showed between two processes: the largest
//! was ×2.29 (a run inside a neighbour's slow spell), so the prior is ×2.5. Anything inside it is
//! `unconfirmed`: re-run, or let the server judge it against the default branch's history.
//! Pure.

use super::verdict::{Comparison, Verdict};

/// The largest factor between two processes' typical times of the same code the prior allows
/// (docs/PERFORMANCE.md, "`upkeep check` without history").
pub const BETWEEN_PROCESS_FACTOR: f64 = 2.5;

/// `cs` judged without history: a regression or improvement whose ratio lies within
/// [`BETWEEN_PROCESS_FACTOR`] either way becomes `Unconfirmed`.
pub fn without_history(cs: Vec<Comparison>) -> Vec<Comparison> {
    cs.into_iter()
        .map(|mut c| {
            let ratio = 1.0 + c.change;
            let called = matches!(c.verdict, Verdict::Regressed | Verdict::Improved);
            let inside = (1.0 / BETWEEN_PROCESS_FACTOR..=BETWEEN_PROCESS_FACTOR).contains(&ratio);
            if called && inside {
                c.verdict = Verdict::Unconfirmed;
            }
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared(change: f64, verdict: Verdict) -> Comparison {
        Comparison {
            full_id: "b".into(),
            base_ns: 100.0,
            head_ns: 100.0 * (1.0 + change),
            change,
            interval: (change - 0.01, change + 0.01),
            p_value: 0.0,
            p_adjusted: 0.0,
            noise_band: None,
            threshold: 0.05,
            limit: None,
            verdict,
        }
    }

    #[test]
    fn changes_inside_the_prior_are_unconfirmed_and_larger_ones_stand() {
        let judged = without_history(vec![
            compared(0.25, Verdict::Regressed),
            compared(-0.5, Verdict::Improved),
            compared(3.0, Verdict::Regressed),
            compared(-0.7, Verdict::Improved),
            compared(0.01, Verdict::Unchanged),
            compared(0.3, Verdict::TooNoisy),
        ]);
        let verdicts: Vec<Verdict> = judged.iter().map(|c| c.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Unconfirmed,
                Verdict::Unconfirmed,
                Verdict::Regressed,
                Verdict::Improved,
                Verdict::Unchanged,
                Verdict::TooNoisy,
            ]
        );
    }
}
