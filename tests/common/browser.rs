//! The status page in a real browser: headless Chromium (Debian's `chromium`) renders it, and
//! the test reads the DOM it built and keeps a screenshot.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Chromium, when installed; `None` prints why the browser check is skipped (CI sets
/// `UPKEEP_REQUIRE_CHROMIUM`, and `.ci/run` installs it, so there it is never skipped).
pub fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            Command::new("which")
                .arg(name)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        });
    if found.is_none() {
        assert!(
            std::env::var_os("UPKEEP_REQUIRE_CHROMIUM").is_none(),
            "UPKEEP_REQUIRE_CHROMIUM is set but no chromium is installed"
        );
        println!("skipping the browser check: no chromium installed (apt-get install chromium)");
    }
    found
}

fn headless(browser: &Path, args: &[&str], url: &str) -> std::process::Output {
    Command::new("timeout")
        .arg("90")
        .arg(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            // A phone's width: the page must read there.
            "--window-size=412,1400",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs")
}

/// The DOM Chromium built from `url`.
pub fn rendered_dom(browser: &Path, url: &str) -> String {
    let out = headless(browser, &["--dump-dom"], url);
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PNG screenshot of `url` at `to`.
pub fn screenshot(browser: &Path, url: &str, to: &Path) {
    let arg = format!("--screenshot={}", to.display());
    let out = headless(browser, &[&arg], url);
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(to).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
}
