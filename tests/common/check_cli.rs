//! `upkeep check` run as a process: a copy of a fixture repository to check, and the binary's
//! exit, stdout and stderr.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A copy of `tests/fixtures/repos/inherited` in a temporary directory: (the directory, the repo).
pub fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("repo");
    copy_dir(
        &super::repo_root().join("tests/fixtures/repos/inherited"),
        &dst,
    );
    (tmp, dst)
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

pub fn check(path: &Path, index: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_upkeep"))
        .arg("check")
        .arg(path)
        .args(["--index", index])
        .args(args)
        .env_remove("UPKEEP_INDEX_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
