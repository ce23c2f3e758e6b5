use super::*;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hasim-output-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    fs::canonicalize(d).unwrap()
}

fn claim(force: bool) -> Claim {
    Claim {
        kind: "test",
        force,
        inputs: Vec::new(),
    }
}

fn write(dir: &Path, files: &[(&str, &str)]) -> Result<(), OutputError> {
    let out = OutputDir::claim(dir, &claim(false))?;
    for (n, body) in files {
        fs::write(out.staging().join(n), body).unwrap();
    }
    out.commit()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_folder_hasim_wrote_is_replaced_whole() {
    let base = scratch("own");
    let dir = base.join("out");
    write(&dir, &[("a.txt", "1"), ("b.txt", "2")]).unwrap();
    assert_eq!(names(&dir), [MANIFEST, "a.txt", "b.txt"]);
    write(&dir, &[("a.txt", "3")]).unwrap();
    assert_eq!(names(&dir), [MANIFEST, "a.txt"]);
    assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "3");
    assert_eq!(names(&base), ["out"], "no staging folder or lock left");
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_folder_with_a_users_file_is_refused_unless_forced() {
    let base = scratch("foreign");
    let dir = base.join("proj");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("experiment.toml"), "mine").unwrap();
    let e = write(&dir, &[("a.txt", "1")]).unwrap_err();
    assert!(matches!(e, OutputError::Foreign { .. }) && e.is_refusal());
    assert!(e.to_string().contains("experiment.toml"), "{e}");
    assert_eq!(names(&dir), ["experiment.toml"]);
    // A file added to hasim's own folder counts too.
    let own = base.join("own");
    write(&own, &[("a.txt", "1")]).unwrap();
    fs::write(own.join("notes.md"), "mine").unwrap();
    let e = write(&own, &[("a.txt", "2")]).unwrap_err();
    assert!(e.to_string().contains("notes.md"), "{e}");
    assert_eq!(fs::read_to_string(own.join("notes.md")).unwrap(), "mine");
    // --force replaces it.
    let out = OutputDir::claim(&dir, &claim(true)).unwrap();
    fs::write(out.staging().join("a.txt"), "1").unwrap();
    out.commit().unwrap();
    assert_eq!(names(&dir), [MANIFEST, "a.txt"]);
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn an_empty_folder_is_used() {
    let base = scratch("empty");
    let dir = base.join("out");
    fs::create_dir_all(&dir).unwrap();
    write(&dir, &[("a.txt", "1")]).unwrap();
    assert_eq!(names(&dir), [MANIFEST, "a.txt"]);
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn files_links_inputs_and_the_current_folder_are_refused() {
    let base = scratch("refused");
    let file = base.join("file");
    fs::write(&file, "x").unwrap();
    let e = OutputDir::claim(&file, &claim(true)).unwrap_err();
    assert!(matches!(e, OutputError::NotADirectory { .. }), "{e}");
    let target = base.join("target");
    fs::create_dir_all(&target).unwrap();
    let link = base.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = OutputDir::claim(&link, &claim(true)).unwrap_err();
    assert!(matches!(e, OutputError::Symlink { .. }), "{e}");
    // A folder holding an input, even with --force, even as written with `..`.
    let parts = base.join("parts");
    fs::create_dir_all(parts.join("p0")).unwrap();
    let c = Claim {
        kind: "merge",
        force: true,
        inputs: vec![parts.join("p0")],
    };
    let e = OutputDir::claim(&parts.join("p0/../"), &c).unwrap_err();
    assert!(matches!(e, OutputError::HoldsInput { .. }), "{e}");
    let e = OutputDir::claim(&parts, &c).unwrap_err();
    assert!(matches!(e, OutputError::HoldsInput { .. }), "{e}");
    let e = OutputDir::claim(Path::new("/"), &claim(true)).unwrap_err();
    assert!(e.is_refusal(), "{e}");
    let cwd = std::env::current_dir().unwrap();
    let e = OutputDir::claim(&cwd, &claim(true)).unwrap_err();
    assert!(
        matches!(
            e,
            OutputError::Protected { .. } | OutputError::Foreign { .. }
        ),
        "{e}"
    );
    let e = OutputDir::claim(cwd.parent().unwrap(), &claim(true)).unwrap_err();
    assert!(matches!(e, OutputError::Protected { .. }), "{e}");
    assert!(parts.join("p0").is_dir() && file.is_file() && target.is_dir());
    assert_eq!(names(&base), ["file", "link", "parts", "target"]);
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_folder() {
    let base = scratch("busy");
    let dir = base.join("out");
    let first = OutputDir::claim(&dir, &claim(false)).unwrap();
    let e = OutputDir::claim(&dir, &claim(false)).unwrap_err();
    assert!(matches!(e, OutputError::Busy { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("pid {}", std::process::id())),
        "{e}"
    );
    drop(first);
    // Released: the next claim works, and nothing is left behind.
    drop(OutputDir::claim(&dir, &claim(false)).unwrap());
    assert!(names(&base).is_empty(), "{:?}", names(&base));
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn an_uncommitted_output_leaves_the_old_folder_and_no_staging() {
    let base = scratch("uncommitted");
    let dir = base.join("out");
    write(&dir, &[("a.txt", "old")]).unwrap();
    let out = OutputDir::claim(&dir, &claim(false)).unwrap();
    fs::write(out.staging().join("a.txt"), "half").unwrap();
    drop(out); // an error or an interruption
    assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "old");
    assert_eq!(names(&base), ["out"]);
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn leftovers_of_a_killed_run_are_cleared_by_the_next() {
    let base = scratch("killed");
    let dir = base.join("out");
    for n in ["out.tmp-999999-0", "out.old-12-3"] {
        fs::create_dir_all(base.join(n)).unwrap();
        fs::write(base.join(n).join("summary.txt"), "x").unwrap();
    }
    // Similar names that are not ours stay.
    fs::create_dir_all(base.join("out.tmp-notes")).unwrap();
    fs::create_dir_all(base.join("output.tmp-1-1")).unwrap();
    write(&dir, &[("a.txt", "1")]).unwrap();
    assert_eq!(names(&base), ["out", "out.tmp-notes", "output.tmp-1-1"]);
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn later_files_join_the_manifest() {
    let base = scratch("manifest");
    let dir = base.join("out");
    write(&dir, &[("a.txt", "1")]).unwrap();
    fs::write(dir.join("diff.png"), "png").unwrap();
    add_to_manifest(&dir, &["diff.png", "diff.png"]).unwrap();
    let m = fs::read_to_string(dir.join(MANIFEST)).unwrap();
    assert_eq!(m.lines().skip(1).collect::<Vec<_>>(), ["a.txt", "diff.png"]);
    write(&dir, &[("a.txt", "2")]).unwrap();
    assert_eq!(names(&dir), [MANIFEST, "a.txt"]);
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn amend_adds_files_to_hasims_own_folder_only_and_whole() {
    let base = scratch("amend");
    let dir = base.join("out");
    write(&dir, &[("a.txt", "1"), ("old.html", "x")]).unwrap();
    fs::create_dir(dir.join("sub")).unwrap_or(());
    let add = |old: &Path, staging: &Path| -> Result<(), OutputError> {
        // Reads the folder as it was, writes beside the carried files.
        let a = fs::read_to_string(old.join("a.txt")).unwrap();
        fs::write(staging.join("old.html"), format!("page of {a}")).unwrap();
        Ok(())
    };
    // `sub` is not in the manifest: refused, nothing changed.
    let e = amend(&dir, &["old.html"], add).unwrap_err();
    assert!(e.to_string().contains("holds `sub`"), "{e}");
    assert_eq!(fs::read_to_string(dir.join("old.html")).unwrap(), "x");
    fs::remove_dir(dir.join("sub")).unwrap();
    amend(&dir, &["old.html"], add).unwrap();
    assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "1");
    assert_eq!(
        fs::read_to_string(dir.join("old.html")).unwrap(),
        "page of 1"
    );
    // The manifest keeps what wrote the folder.
    let m = fs::read_to_string(dir.join(MANIFEST)).unwrap();
    assert!(m.starts_with("hasim test output:"), "{m}");
    assert_eq!(names(&base), ["out"]);
    // An error in `add` leaves the folder as it was.
    let failing = |_: &Path, staging: &Path| -> Result<(), OutputError> {
        fs::write(staging.join("old.html"), "half").unwrap();
        Err(OutputError::NoName {
            path: staging.to_path_buf(),
        })
    };
    assert!(amend(&dir, &["old.html"], failing).is_err());
    assert_eq!(
        fs::read_to_string(dir.join("old.html")).unwrap(),
        "page of 1"
    );
    assert_eq!(names(&base), ["out"]);
    // No manifest: not hasim's.
    let theirs = base.join("theirs");
    fs::create_dir(&theirs).unwrap();
    let e = amend(&theirs, &[], add).unwrap_err();
    assert!(e.to_string().contains("has no manifest"), "{e}");
    fs::remove_dir_all(&base).unwrap();
}
