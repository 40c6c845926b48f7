//! The who-trusts-whom picture: accounts on a circle, an arrow from each owner to each
//! outside party it lets in; red unapproved, green approved, grey warning only. Built with
//! maud, so every name in it is escaped by construction.

use crossguard_engine::report::Edge;
use maud::{html, Markup};
use std::collections::{BTreeMap, HashMap};

/// Node limit: past it the picture would be unreadable; the table beside it always lists
/// every pair.
const MAX_NODES: usize = 40;

const ARROWS: [(&str, &str); 3] = [
    ("unapproved", "#b3261e"),
    ("approved", "#1b6e2d"),
    ("warning", "#888"),
];

/// A coordinate as the picture writes it.
fn at(v: f64) -> String {
    format!("{v:.1}")
}

/// The picture for these owner → party edges.
pub fn picture(edges: &BTreeMap<(String, String), Edge>) -> Markup {
    let mut weight: BTreeMap<&str, u64> = BTreeMap::new();
    for ((o, p), e) in edges {
        let n = e.approved + e.unapproved + e.warning;
        *weight.entry(o).or_default() += n;
        *weight.entry(p).or_default() += n;
    }
    let mut nodes: Vec<(&str, u64)> = weight.into_iter().collect();
    nodes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    nodes.truncate(MAX_NODES);
    nodes.sort_unstable();
    let (w, h) = (900.0_f64, 620.0_f64);
    let (cx, cy, rad) = (w / 2.0, h / 2.0, 240.0);
    // At most MAX_NODES nodes: the casts are exact.
    #[allow(clippy::cast_precision_loss)]
    let pos: HashMap<&str, (f64, f64)> = nodes
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let a = std::f64::consts::TAU * i as f64 / nodes.len().max(1) as f64
                - std::f64::consts::FRAC_PI_2;
            (*name, (cx + rad * a.cos(), cy + rad * a.sin()))
        })
        .collect();
    html! {
        svg id="trust-graph" xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (w) " " (h) }
            width=(w) height=(h) role="img" aria-label="who trusts whom" {
            defs {
                @for (id, color) in ARROWS {
                    marker id={ "arrow-" (id) } viewBox="0 0 10 10" refX="22" refY="5"
                        markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                        path d="M0 0L10 5L0 10z" fill=(color) {}
                    }
                }
            }
            @for ((o, p), e) in edges {
                @if let (Some(a), Some(b)) = (pos.get(o.as_str()), pos.get(p.as_str())) {
                    @let (class, color) = edge_style(e);
                    line class={ "edge " (class) } x1=(at(a.0)) y1=(at(a.1)) x2=(at(b.0)) y2=(at(b.1))
                        stroke=(color) stroke-width="2"
                        stroke-dasharray=[(class == "warning").then_some("5 4")]
                        marker-end={ "url(#arrow-" (class) ")" } {
                        title { (o) " trusts " (p) ": " (e.approved) " approved, " (e.unapproved)
                            " unapproved, " (e.warning) " warning" }
                    }
                }
            }
            @for (name, _) in &nodes {
                @let (x, y) = pos[name];
                g class="node" {
                    circle cx=(at(x)) cy=(at(y)) r="14"
                        fill=(if *name == "*" { "#fdecea" } else { "#eef3fb" }) stroke="#4a5a78" {}
                    text x=(at(x)) y=(at(y + if y < cy { -20.0 } else { 30.0 }))
                        text-anchor="middle" font-size="12" {
                        (if *name == "*" { "* (anyone)" } else { name })
                    }
                }
            }
        }
    }
}

/// An edge's class and colour: red where any grant is unapproved.
fn edge_style(e: &Edge) -> (&'static str, &'static str) {
    if e.unapproved > 0 {
        ARROWS[0]
    } else if e.approved > 0 {
        ARROWS[1]
    } else {
        ARROWS[2]
    }
}
