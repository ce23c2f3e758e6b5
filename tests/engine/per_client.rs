//! Each client's own figures: a client whose target dies fails, the other
//! does not, and the two add up to the totals (summary.txt and .json).

use crate::common;
use hasim::report;

const TWO_CLIENTS: &str = r#"
[experiment]
duration = "20s"
[clients.users]
type = "open"
target = "s1"
rate = 50
arrivals = "constant"
timeout = "1s"
[clients.writer]
type = "open"
target = "s2"
rate = 20
arrivals = "constant"
timeout = "1s"
[servers.s]
count = 2
service = "2ms"
[[faults]]
kind = "kill"
target = "s1"
at = "10s"
"#;

#[test]
fn each_client_has_its_own_figures_and_they_add_up() {
    let r = common::run(TWO_CLIENTS);
    let c = &r.recorder.clients;
    assert_eq!(c.len(), 2);
    assert_eq!(
        (c[0].name.as_str(), c[1].name.as_str()),
        ("users", "writer")
    );
    // users: 50/s, refused from 10 s on; writer: 20/s, never fails.
    assert_eq!(c[0].requests, 1000);
    assert_eq!(c[0].failed, 500);
    assert_eq!(c[0].by_kind, r.recorder.by_kind);
    assert_eq!((c[1].requests, c[1].failed), (400, 0));
    assert_eq!(c[0].requests + c[1].requests, r.recorder.requests);
    assert_eq!(
        c[0].ok_latency.count() + c[1].ok_latency.count(),
        r.recorder.overall_ok.count()
    );

    let text = report::summary_text(&r);
    assert!(text.contains("\n  clients\n"), "{text}");
    assert!(
        text.contains("users...") && text.contains("failed 500 50.00% (refused: 500)"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&report::summary_json(&r)).unwrap();
    let clients = json["clients"].as_array().unwrap();
    assert_eq!(clients[1]["name"], "writer");
    assert_eq!(clients[1]["ok"], 400);
    assert_eq!(clients[0]["failed_by_kind"]["refused"], 500);
}
