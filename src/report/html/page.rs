//! The page around the sections: head (viewport, inline CSS), a table of
//! contents, the inline script (sortable tables, and a self-check the
//! browser test reads), inlined SVG plots and sortable tables. Nothing is
//! fetched: no external CSS, script or font (the font stack is the reader's
//! own `system-ui, sans-serif`).

use super::escape::esc;
use std::fmt::Write as _;

const CSS: &str = r#"
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--bad:#b3261e;--badbg:#fdecea;--good:#1a7f37;--goodbg:#e8f5ec;--warn:#9a6700;--warnbg:#fff8c5;--accent:#0b5cad}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:72rem;margin:0 auto;padding:1rem 1rem 3rem}
header.top{border-bottom:1px solid var(--line);margin-bottom:1rem;padding-bottom:.5rem}
h1{font-size:1.6rem;margin:.2rem 0;overflow-wrap:anywhere}
h2{font-size:1.3rem;margin:2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid var(--line)}
h3{font-size:1.1rem;margin:1.4rem 0 .4rem;overflow-wrap:anywhere}
p{margin:.4rem 0}
.muted{color:var(--muted)}
.desc{font-size:1.05rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:var(--soft);padding:.75rem;overflow-x:auto;border-radius:6px;font-size:.8rem;line-height:1.35}
nav.toc{display:flex;flex-wrap:wrap;gap:.3rem .9rem;font-size:.95rem;margin:.6rem 0}
a{color:var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(10.5rem,1fr));gap:.6rem;margin:.8rem 0}
.card{border:1px solid var(--line);border-radius:8px;padding:.55rem .75rem;background:var(--soft)}
.card .k{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.card .v{font-size:1.55rem;font-weight:650;line-height:1.2;font-variant-numeric:tabular-nums}
.card .s{font-size:.85rem;color:var(--muted)}
.card.bad{background:var(--badbg);border-color:#f3b5b0}.card.bad .v{color:var(--bad)}
.card.good{background:var(--goodbg);border-color:#b4e2c1}.card.good .v{color:var(--good)}
.warn{background:var(--warnbg);border-left:4px solid var(--warn);padding:.4rem .7rem;margin:.4rem 0;border-radius:4px}
.tw{overflow-x:auto;margin:.5rem 0;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.92rem;min-width:50%}
th,td{border-bottom:1px solid var(--line);padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:12rem;background:none;font-weight:500;color:var(--muted)}
table.sortable th button{all:unset;cursor:pointer;display:block;width:100%;color:inherit}
table.sortable th button:focus-visible{outline:2px solid var(--accent)}
table.sortable th[aria-sort=ascending] button::after{content:" \25B2";font-size:.7em}
table.sortable th[aria-sort=descending] button::after{content:" \25BC";font-size:.7em}
figure{margin:.8rem 0}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(30rem,100%),1fr));gap:0 1rem}
.plots figure{margin:.4rem 0}
.plotbox{overflow-x:auto;-webkit-overflow-scrolling:touch}
figure svg.plot{display:block;width:100%;max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
figcaption{font-size:.85rem;color:var(--muted);margin-top:.2rem}
.fault{border:1px solid var(--line);border-radius:8px;padding:.2rem 1rem .6rem;margin:1rem 0}
.fault.recovery{background:var(--soft)}
.fault h3 .at{font-weight:400;color:var(--muted);font-size:.95rem}
.tag{display:inline-block;font-size:.75rem;border-radius:999px;padding:0 .5rem;border:1px solid var(--line);background:var(--bg);vertical-align:middle;font-weight:500}
.tag.bad{color:var(--bad);border-color:#f3b5b0;background:var(--badbg)}
.tag.good{color:var(--good);border-color:#b4e2c1;background:var(--goodbg)}
ol.events{list-style:none;margin:.5rem 0;padding:0 0 0 .9rem;border-left:2px solid var(--line)}
ol.events li{position:relative;padding:.3rem 0 .3rem .6rem;overflow-wrap:anywhere}
ol.events li::before{content:"";position:absolute;left:-1.33rem;top:.75rem;width:.6rem;height:.6rem;border-radius:50%;background:var(--line);border:2px solid var(--bg)}
ol.events li.e-fault::before{background:var(--bad)}
ol.events li.e-recover::before{background:var(--good)}
ol.events li.e-down::before{background:#e36209}
ol.events li.e-up::before{background:#2da44e}
ol.events li.e-leader::before{background:#8250df}
ol.events li.e-fault,ol.events li.e-recover{margin-top:.5rem}
ol.events time{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem;color:var(--muted);margin-right:.5rem}
ol.events .ev{font-weight:600;margin-right:.4rem}
ol.events .rel{font-size:.8rem;color:var(--muted);margin-left:.4rem}
ol.events .detail{display:block;font-size:.85rem;color:var(--muted)}
details{margin:.6rem 0}
summary{cursor:pointer}
footer{margin-top:2rem;font-size:.85rem;color:var(--muted);border-top:1px solid var(--line);padding-top:.6rem}
@media (max-width:40rem){body{font-size:15px}main{padding:.6rem .6rem 2rem}h1{font-size:1.3rem}.card .v{font-size:1.3rem}table.kv th{width:auto}figure svg.plot{min-width:36rem}th,td{padding:.25rem .4rem}}
@media print{body{font-size:10.5pt}figure svg.plot{min-width:0}main{max-width:none;padding:0}nav.toc,.noprint{display:none}a{color:inherit;text-decoration:none}.tw{overflow:visible}.fault,figure,.card,tr{break-inside:avoid}h2,h3{break-after:avoid}#text{display:none}pre{white-space:pre-wrap}.card,.fault.recovery,th{background:none}}
"#;

/// Sorts every `table.sortable` on a click of a header (numbers by their
/// `data-v`, text otherwise; empty cells last), and checks the page once
/// loaded: every inline plot has a nonzero box, the sort orders a column.
/// The verdict goes into `<body data-check>`, which the browser test reads.
const JS: &str = r#"
(function(){
"use strict";
function val(td){var v=td.getAttribute("data-v");return v===null?td.textContent.trim():v;}
function cmp(a,b){
  if(a===""||b===""){return a===b?0:(a===""?1:-1);}
  var x=Number(a),y=Number(b);
  if(!isNaN(x)&&!isNaN(y)){return x<y?-1:x>y?1:0;}
  return a<b?-1:a>b?1:0;
}
function sortBy(table,col,dir){
  var body=table.tBodies[0];
  var rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(r,s){
    var a=val(r.cells[col]),b=val(s.cells[col]);
    var c=(a===""||b==="")?cmp(a,b):dir*cmp(a,b);
    return c||(Number(r.getAttribute("data-i"))-Number(s.getAttribute("data-i")));
  });
  rows.forEach(function(r){body.appendChild(r);});
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    if(i===col){th.setAttribute("aria-sort",dir>0?"ascending":"descending");}else{th.removeAttribute("aria-sort");}
  });
}
var tables=document.querySelectorAll("table.sortable");
Array.prototype.forEach.call(tables,function(t){
  Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){
    var b=th.querySelector("button");
    if(!b){return;}
    b.addEventListener("click",function(){
      sortBy(t,i,th.getAttribute("aria-sort")==="ascending"?-1:1);
    });
  });
});
function check(){
  var problems=[];
  var plots=document.querySelectorAll("svg.plot");
  Array.prototype.forEach.call(plots,function(s,i){
    var b=s.getBBox(),r=s.getBoundingClientRect();
    if(!(b.width>0&&b.height>0&&r.width>0&&r.height>0)){problems.push("plot "+(i+1)+" has an empty box");}
  });
  Array.prototype.forEach.call(tables,function(t,k){
    var body=t.tBodies[0],col=t.tHead.rows[0].cells.length-1;
    if(body.rows.length<2){return;}
    sortBy(t,col,-1);
    for(var i=1;i<body.rows.length;i++){
      var a=val(body.rows[i-1].cells[col]),b=val(body.rows[i].cells[col]);
      if(a!==""&&b!==""&&cmp(a,b)<0){problems.push("table "+(k+1)+" did not sort");break;}
    }
    sortBy(t,0,1);
    t.tHead.rows[0].cells[0].removeAttribute("aria-sort");
  });
  document.body.setAttribute("data-check",problems.length?"failed: "+problems.join("; "):"ok: "+plots.length+" plots, "+tables.length+" sortable tables");
}
if(document.readyState==="complete"){check();}else{window.addEventListener("load",check);}
})();
"#;

/// The whole page: `title` and the body (header, contents, sections).
pub fn page(title: &str, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + CSS.len() + JS.len() + 1024);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    s.push_str("<meta name=\"generator\" content=\"hasim\">\n");
    // Errors of the page's own script show in the DOM for the browser test.
    s.push_str(
        "<script>window.addEventListener(\"error\",function(e){document.documentElement.setAttribute(\"data-js-error\",String(e.message));});</script>\n",
    );
    let _ = writeln!(s, "<title>{}</title>", esc(title));
    let _ = writeln!(s, "<style>{CSS}</style>\n</head>\n<body>\n<main>");
    s.push_str(body);
    let _ = write!(s, "</main>\n<script>{JS}</script>\n</body>\n</html>\n");
    s
}

/// `<nav class="toc">` with a link per (id, label).
pub fn toc(entries: &[(String, String)]) -> String {
    let mut s = String::from("<nav class=\"toc\" aria-label=\"contents\">");
    for (id, label) in entries {
        let _ = write!(s, "<a href=\"#{}\">{}</a>", esc(id), esc(label));
    }
    s.push_str("</nav>\n");
    s
}

/// An SVG file hasim drew, ready to inline as `<svg class="plot">`: its
/// outer width and height attributes become a `viewBox` (so CSS scales it),
/// and it gets a label. `None` if it is not an SVG as plotters writes them
/// (no `<svg` tag), or holds script or external references: a plot is
/// shapes and text only.
pub fn inline_svg(text: &str, label: &str) -> Option<String> {
    let start = text.find("<svg")?;
    let end = start + text[start..].find('>')?;
    let lower = text.to_ascii_lowercase();
    let unsafe_markup = [
        "<script",
        "<foreignobject",
        "javascript:",
        "href=",
        " on",
        "<iframe",
    ];
    if unsafe_markup.iter().any(|m| {
        // ` on` only as an attribute: ` onload=`.
        if *m == " on" {
            lower.match_indices(" on").any(|(i, _)| {
                lower[i + 3..]
                    .bytes()
                    .take_while(|b| b.is_ascii_alphabetic())
                    .count()
                    > 0
                    && lower[i + 3..]
                        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                        .starts_with('=')
            })
        } else {
            lower.contains(m)
        }
    }) {
        return None;
    }
    let tag = &text[start..end];
    let attr = |name: &str| -> Option<&str> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(&tag[at..at + tag[at..].find('"')?])
    };
    let view_box = match (attr("viewBox"), attr("width"), attr("height")) {
        (Some(v), _, _) => v.to_string(),
        (None, Some(w), Some(h)) => format!("0 0 {w} {h}"),
        _ => return None,
    };
    let mut s = format!(
        "<svg class=\"plot\" viewBox=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\">",
        esc(&view_box),
        esc(label)
    );
    let _ = write!(s, "<title>{}</title>", esc(label));
    s.push_str(text[end + 1..].trim());
    s.push('\n');
    Some(s)
}

/// `<figure>` with an inlined plot and its caption, or a line saying why
/// the plot is not shown.
pub fn figure(svg: Option<&str>, file: &str, caption: &str) -> String {
    match svg.and_then(|t| inline_svg(t, caption)) {
        Some(inline) => format!(
            "<figure>\n<div class=\"plotbox\">{inline}</div><figcaption>{} <span class=\"noprint\">(<a href=\"{}\">{}</a>)</span></figcaption>\n</figure>\n",
            esc(caption),
            esc(file),
            esc(file)
        ),
        None => format!(
            "<p class=\"muted\">{}: no plot ({} is missing or not a plot hasim drew).</p>\n",
            esc(caption),
            esc(file)
        ),
    }
}

/// A table cell: its text, and for a number the value it sorts by.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    /// `Some` for a numeric column: the sort key (`""` for no value).
    pub sort: Option<String>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            sort: None,
        }
    }

    /// A number shown as `text`, sorted by `v` (NaN: empty, sorted last).
    pub fn num(v: f64, text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            sort: Some(if v.is_finite() {
                format!("{v}")
            } else {
                String::new()
            }),
        }
    }
}

/// A column of a sortable table: its label, whether it sorts as numbers,
/// and a longer name shown on hover.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub label: String,
    pub numeric: bool,
    pub title: Option<String>,
}

impl Header {
    pub fn new(label: impl Into<String>, numeric: bool) -> Header {
        Header {
            label: label.into(),
            numeric,
            title: None,
        }
    }
}

/// A table the reader sorts by clicking a header: numeric columns (a header
/// with `numeric`) sort by their cells' values, `data-i` keeps the original
/// order as a tie-break and for the self-check to return to.
pub fn sortable_table(headers: &[Header], rows: &[Vec<Cell>]) -> String {
    let mut s = String::from("<div class=\"tw\"><table class=\"sortable\">\n<thead><tr>");
    for h in headers {
        let class = if h.numeric { " class=\"n\"" } else { "" };
        let title = match &h.title {
            Some(t) => format!(" title=\"{}\"", esc(t)),
            None => String::new(),
        };
        let _ = write!(
            s,
            "<th scope=\"col\"{class}{title}><button type=\"button\">{}</button></th>",
            esc(&h.label)
        );
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for (i, row) in rows.iter().enumerate() {
        let _ = write!(s, "<tr data-i=\"{i}\">");
        for c in row {
            match &c.sort {
                Some(v) => {
                    let _ = write!(
                        s,
                        "<td class=\"n\" data-v=\"{}\">{}</td>",
                        esc(v),
                        esc(&c.text)
                    );
                }
                None => {
                    let _ = write!(s, "<td>{}</td>", esc(&c.text));
                }
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// `<section id=...><h2>title</h2>` + body + `</section>`.
pub fn section(id: &str, title: &str, body: &str) -> String {
    format!(
        "<section id=\"{}\">\n<h2>{}</h2>\n{body}</section>\n",
        esc(id),
        esc(title)
    )
}

/// A key-figure card: label, value, a line under it; `tone` `bad`, `good`
/// or empty.
pub fn card(label: &str, value: &str, sub: &str, tone: &str) -> String {
    format!(
        "<div class=\"card {}\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"s\">{}</div></div>\n",
        esc(tone),
        esc(label),
        esc(value),
        esc(sub)
    )
}

/// A two-column table of (label, value) rows, values escaped.
pub fn kv_table(rows: &[(String, String)]) -> String {
    let mut s = String::from("<div class=\"tw\"><table class=\"kv\"><tbody>\n");
    for (k, v) in rows {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            esc(k),
            esc(v)
        );
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// A plain table: header (label, numeric) and rows of cells, escaped.
pub fn table(headers: &[(&str, bool)], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<div class=\"tw\"><table>\n<thead><tr>");
    for (h, n) in headers {
        let class = if *n { " class=\"n\"" } else { "" };
        let _ = write!(s, "<th scope=\"col\"{class}>{}</th>", esc(h));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        s.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if headers.get(i).is_some_and(|h| h.1) {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(s, "<td{class}>{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> Vec<Header> {
        let mut inter = Header::new("inter <s>", false);
        inter.title = Some("balancers.lb.inter".into());
        vec![inter, Header::new("failed", true)]
    }

    #[test]
    fn sortable_table_carries_sort_keys_and_order() {
        let rows = vec![
            vec![Cell::text("10ms"), Cell::num(207.0, "207")],
            vec![Cell::text("1s & more"), Cell::num(f64::NAN, "")],
            vec![Cell::text("2s"), Cell::num(1.5e-7, "0.00")],
        ];
        let t = sortable_table(&headers(), &rows);
        assert!(
            t.starts_with("<div class=\"tw\"><table class=\"sortable\">"),
            "{t}"
        );
        // Every header is a button; text is escaped.
        assert_eq!(t.matches("<button type=\"button\">").count(), 2);
        assert!(t.contains("<button type=\"button\">inter &lt;s&gt;</button>"));
        assert!(t.contains("<th scope=\"col\" class=\"n\"><button"));
        assert!(t.contains("<th scope=\"col\" title=\"balancers.lb.inter\"><button"));
        // Rows keep their first order in data-i; numbers sort by their value,
        // exactly (not by the rounded text); no value sorts as empty.
        assert!(t.contains(
            "<tr data-i=\"0\"><td>10ms</td><td class=\"n\" data-v=\"207\">207</td></tr>"
        ));
        assert!(t.contains(
            "<tr data-i=\"1\"><td>1s &amp; more</td><td class=\"n\" data-v=\"\"></td></tr>"
        ));
        assert!(t.contains("data-v=\"0.00000015\">0.00</td>"), "{t}");
        // The script sorts what it finds: sortable tables and their buttons.
        assert!(JS.contains("table.sortable") && JS.contains("data-v") && JS.contains("data-i"));
    }

    #[test]
    fn svg_is_inlined_scalable_and_checked() {
        let svg = "<svg width=\"1280\" height=\"720\" viewBox=\"0 0 1280 720\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect x=\"0\"/>\n<text>a &lt; b</text>\n</svg>\n";
        let s = inline_svg(svg, "timeline \"all\"").unwrap();
        assert!(
            s.starts_with("<svg class=\"plot\" viewBox=\"0 0 1280 720\""),
            "{s}"
        );
        assert!(!s.contains("width=\"1280\""), "{s}");
        assert!(s.contains("aria-label=\"timeline &quot;all&quot;\""));
        assert!(s.contains("<title>timeline &quot;all&quot;</title><rect x=\"0\"/>"));
        assert!(s.trim_end().ends_with("</svg>"));
        // Without a viewBox, width and height give it.
        let s = inline_svg("<svg width=\"10\" height=\"5\"><g/></svg>", "x").unwrap();
        assert!(s.contains("viewBox=\"0 0 10 5\""), "{s}");
        // Not an SVG, or one with script: not inlined.
        assert_eq!(inline_svg("<html></html>", "x"), None);
        for bad in [
            "<svg width=\"1\" height=\"1\"><script>x()</script></svg>",
            "<svg width=\"1\" height=\"1\" onload=\"x()\"></svg>",
            "<svg width=\"1\" height=\"1\"><a href=\"javascript:x()\"/></svg>",
        ] {
            assert_eq!(inline_svg(bad, "x"), None, "{bad}");
        }
        // Words like "on" in a plot's text are fine.
        assert!(
            inline_svg(
                "<svg width=\"1\" height=\"1\"><text>on marked down</text></svg>",
                "x"
            )
            .is_some()
        );
        let f = figure(None, "fault-1.svg", "panel");
        assert!(f.contains("no plot (fault-1.svg is missing"), "{f}");
    }

    #[test]
    fn page_is_self_contained() {
        let p = page("a <b>", "<section id=\"s\"></section>");
        assert!(p.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(
            p.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        );
        assert!(p.contains("<title>a &lt;b&gt;</title>"));
        assert!(p.contains("@media print") && p.contains("system-ui"));
        // Nothing is loaded from elsewhere.
        for remote in ["http://", "https://", "src=", "@import", "url("] {
            let outside_svg_ns = p.replace("http://www.w3.org/2000/svg", "");
            assert!(!outside_svg_ns.contains(remote), "{remote}");
        }
    }
}
