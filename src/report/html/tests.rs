use super::super::testutil::sample;
use super::super::write::write_files;
use super::*;
use std::fs;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hasim-html-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// The sample run's files, written into a fresh folder.
fn sample_dir(name: &str) -> PathBuf {
    let d = scratch(name);
    write_files(&sample(), &d).unwrap();
    d
}

/// The text of `<article ... id="fault-N">` .. `</article>`.
fn article(page: &str, n: usize) -> &str {
    let start = page
        .find(&format!("id=\"fault-{n}\""))
        .unwrap_or_else(|| panic!("no fault #{n}"));
    let end = start + page[start..].find("</article>").unwrap();
    &page[start..end]
}

#[test]
fn every_fault_gets_its_section_and_each_injection_its_panel() {
    let d = sample_dir("panels");
    let page = render(&d).unwrap();
    let r = sample();
    for (i, f) in r.faults.iter().enumerate() {
        let a = article(&page, i + 1);
        assert!(a.contains(&esc(&f.label)), "{a}");
        let svgs = a.matches("<svg class=\"plot\"").count();
        // A panel per fault action that is not a recovery, as fault-N.svg.
        assert_eq!(svgs, usize::from(!f.is_recovery), "fault #{}: {a}", i + 1);
    }
    // The timeline too, inlined: the page names no file it would load.
    assert_eq!(
        page.matches("<svg class=\"plot\"").count(),
        1 + r.faults.iter().filter(|f| !f.is_recovery).count()
    );
    assert!(!page.contains("<img"));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn run_page_has_key_figures_formulas_events_and_escapes_text() {
    let d = sample_dir("content");
    let page = render(&d).unwrap();
    for section in [
        "summary", "faults", "formulas", "data", "clients", "events", "text",
    ] {
        assert!(
            page.contains(&format!("<section id=\"{section}\">")),
            "{section}"
        );
    }
    // Key figures first.
    let cards = page.find("class=\"cards\"").unwrap();
    assert!(cards < page.find("id=\"faults\"").unwrap());
    for k in [
        "Error window",
        "Failed requests",
        "Lost writes",
        "Split-brain",
    ] {
        assert!(
            page[cards..].contains(&format!("<div class=\"k\">{k}</div>")),
            "{k}"
        );
    }
    // Five failed of kill s2: 2.95 s .. 4.4 s is issued from -0.05 s to 1.4 s.
    assert!(page.contains("<div class=\"v\">6</div>"), "failed requests");
    assert!(
        page.contains("<div class=\"v\">1.450 s</div>"),
        "error window"
    );
    // A product's own words, escaped (HAProxy's quotes).
    assert!(page.contains("info: &quot;Connection refused&quot;"));
    assert!(!page.contains("info: \"Connection refused\""));
    // Formula vs simulation: detection 1.5 s against 1–2 s.
    let row = "<td class=\"n\">1.500 s</td><td class=\"n\">1.000–2.000 s</td>\
               <td class=\"mono\">U(0,inter) + fall*inter</td>\
               <td><span class=\"tag good\">inside</span></td>";
    assert!(page.contains(row), "{page}");
    // The state-change log as a list, each change after the fault action it
    // follows.
    let fault =
        "<li class=\"e-fault\"><time>3.000 s</time><span class=\"ev\">fault</span>faults → s2";
    assert!(page.contains(fault), "{page}");
    let down = "<li class=\"e-down\"><time>4.500 s</time><span class=\"ev\">marked down</span>\
                lb → s2<span class=\"rel\">+1.500 s after #1</span>";
    assert!(page.contains(down), "{page}");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn same_files_give_the_same_bytes_wherever_they_are() {
    let (a, b) = (sample_dir("same-a"), sample_dir("same-b"));
    let pa = render(&a).unwrap();
    assert_eq!(pa, render(&b).unwrap());
    assert_eq!(pa, render(&a).unwrap());
    assert!(!pa.contains(a.to_str().unwrap()));
    fs::remove_dir_all(&a).unwrap();
    fs::remove_dir_all(&b).unwrap();
}

#[test]
fn a_folder_that_is_not_an_output_is_bad_input() {
    let d = scratch("neither");
    let e = render(&d).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("neither summary.json"),
        "{e}"
    );
    fs::write(d.join("summary.json"), "{\"experiment\": 1}").unwrap();
    let e = render(&d).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("not a summary.json hasim wrote"),
        "{e}"
    );
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn report_folder_adds_the_page_only_to_hasims_own_folder() {
    let base = scratch("folder");
    let out = base.join("run");
    super::super::write::write_all(&sample(), &out).unwrap();
    let before = fs::read(out.join("summary.json")).unwrap();
    assert_eq!(report_folder(&out).unwrap(), Kind::Run);
    let page = fs::read_to_string(out.join(REPORT)).unwrap();
    assert_eq!(page, render(&out).unwrap());
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), before);
    // Listed in the manifest, which still says what wrote the folder: the
    // folder stays replaceable by the next run, and reportable again.
    let manifest = fs::read_to_string(out.join(output::MANIFEST)).unwrap();
    assert!(manifest.starts_with("hasim run output"), "{manifest}");
    assert!(manifest.lines().any(|l| l == REPORT), "{manifest}");
    report_folder(&out).unwrap();
    assert_eq!(fs::read_to_string(out.join(REPORT)).unwrap(), page);
    super::super::write::write_all(&sample(), &out).unwrap();
    // A file of the user's: refused, nothing changed.
    report_folder(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let e = report_folder(&out).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("`notes.txt`"),
        "{e}"
    );
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    // A folder hasim did not write at all.
    let theirs = base.join("theirs");
    fs::create_dir_all(&theirs).unwrap();
    fs::copy(out.join("summary.json"), theirs.join("summary.json")).unwrap();
    let e = report_folder(&theirs).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("has no manifest"),
        "{e}"
    );
    assert!(!theirs.join(REPORT).exists());
    let leftovers: Vec<_> = fs::read_dir(&base)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-") || n.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    fs::remove_dir_all(&base).unwrap();
}
