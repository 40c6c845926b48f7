//! The listing over an in-memory bucket that records every call: what is listed, what
//! is passed over unlisted, and how faults are reported.

use super::*;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// A bucket as ListObjectsV2 shows it: keys and common prefixes in one sorted
/// sequence, two entries a page.
#[derive(Default)]
struct Bucket {
    keys: BTreeSet<String>,
    calls: Mutex<Vec<(String, bool)>>,
    /// Listings of these prefixes fail.
    refused: Vec<String>,
    /// Pages name each other in a cycle: from the first to the third, back to the first.
    stuck: bool,
}

impl Lister for Bucket {
    fn page(
        &self,
        _bucket: &str,
        prefix: &str,
        delimited: bool,
        token: Option<String>,
    ) -> impl Future<Output = Result<Page, String>> + Send {
        self.calls
            .lock()
            .unwrap()
            .push((prefix.to_string(), delimited));
        let result = if self.refused.iter().any(|r| r == prefix) {
            Err("AccessDenied".to_string())
        } else {
            let mut entries: Vec<(String, bool)> = Vec::new();
            for k in self.keys.iter().filter(|k| k.starts_with(prefix)) {
                let rest = &k[prefix.len()..];
                match rest.find('/').filter(|_| delimited) {
                    Some(i) => entries.push((format!("{prefix}{}", &rest[..=i]), true)),
                    None => entries.push((k.clone(), false)),
                }
            }
            entries.sort();
            entries.dedup();
            let from: usize = token.as_deref().map_or(0, |t| t.parse().unwrap());
            let mut page = Page::default();
            for (e, folder) in entries.iter().skip(from).take(2) {
                if *folder {
                    page.folders.push(e.clone());
                } else {
                    page.objects.push((e.clone(), Some(10)));
                }
            }
            if self.stuck {
                page.next = Some(if from == 0 { "2" } else { "0" }.into());
            } else if from + 2 < entries.len() {
                page.next = Some((from + 2).to_string());
            }
            Ok(page)
        };
        async move { result }
    }
}

const A: &str = "111111111111";
const B: &str = "222222222222";

fn archive() -> Bucket {
    let mut keys = BTreeSet::new();
    for (root, acct) in [("AWSLogs/o-abc123/", A), ("AWSLogs/", B)] {
        for day in [
            "2025/12/31",
            "2026/01/01",
            "2026/01/02",
            "2026/01/03",
            "2026/01/04",
            "2026/01/05",
        ] {
            let tag = day.replace('/', "");
            keys.insert(format!(
                "{root}{acct}/CloudTrail/eu-west-1/{day}/{acct}_CloudTrail_eu-west-1_{tag}T0000Z_a.json.gz"
            ));
        }
        keys.insert(format!(
            "{root}{acct}/CloudTrail-Digest/eu-west-1/2026/01/03/{acct}_digest.json.gz"
        ));
    }
    keys.insert("notes.txt".into());
    Bucket {
        keys,
        ..Bucket::default()
    }
}

fn at(prefix: &str) -> Location {
    Location {
        bucket: "trail".into(),
        prefix: prefix.into(),
    }
}

fn run(bucket: Bucket, at: &Location, filters: &Filters) -> (Listed, Vec<(String, bool)>) {
    let bucket = Arc::new(bucket);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let listed = rt.block_on(list(Arc::clone(&bucket), at, filters));
    let calls = bucket.calls.lock().unwrap().clone();
    (listed, calls)
}

fn keys(listed: &Listed) -> Vec<&str> {
    listed
        .inputs
        .iter()
        .map(|i| match i {
            Input::S3(o) => o.key.as_str(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn without_filters_the_prefix_is_listed_flat_and_paged() {
    let (listed, calls) = run(archive(), &at(""), &Filters::default());
    assert!(calls
        .iter()
        .all(|(p, delimited)| p.is_empty() && !delimited));
    // 15 keys, two a page.
    assert_eq!(calls.len(), 8);
    let got = keys(&listed);
    assert_eq!(got.len(), 12, "{got:?}");
    assert!(got.windows(2).all(|w| w[0] < w[1]));
    assert!(got
        .iter()
        .all(|k| k.ends_with(".json.gz") && !k.contains("Digest")));
    assert!(listed.skipped.is_empty());
    assert_eq!((listed.passed_over, listed.folders_passed_over), (0, 0));
}

#[test]
fn filters_pass_over_folders_unlisted_organization_trails_too() {
    let filters = Filters {
        since: Some("2026-01-03".into()),
        until: Some("2026-01-03T12:00:00Z".into()),
        accounts: vec![A.into()],
    };
    let (listed, calls) = run(archive(), &at(""), &filters);
    // Days 2-4 of account A: the day's margin either side.
    let got = keys(&listed);
    assert_eq!(got.len(), 3, "{got:?}");
    for (k, day) in got.iter().zip(["2026/01/02", "2026/01/03", "2026/01/04"]) {
        assert!(
            k.starts_with(&format!("AWSLogs/o-abc123/{A}/CloudTrail/eu-west-1/{day}/")),
            "{k}"
        );
    }
    let listed_prefixes: Vec<&str> = calls.iter().map(|(p, _)| p.as_str()).collect();
    // Account B's folder, the digests, year 2025 and days 1 and 5 are never listed.
    for p in &listed_prefixes {
        assert!(
            !p.contains(B) && !p.contains("Digest") && !p.contains("2025"),
            "{p}"
        );
        assert!(!p.ends_with("/01/01/") && !p.ends_with("/01/05/"), "{p}");
    }
    // Down to the day one level at a time; each day listed flat.
    assert!(calls.contains(&(
        format!("AWSLogs/o-abc123/{A}/CloudTrail/eu-west-1/2026/01/"),
        true
    )));
    assert!(calls.contains(&(
        format!("AWSLogs/o-abc123/{A}/CloudTrail/eu-west-1/2026/01/03/"),
        false
    )));
    // B's account folder, 2025, days 1 and 5.
    assert_eq!(listed.folders_passed_over, 4);
    assert!(listed.skipped.is_empty());
}

#[test]
fn an_account_filter_alone_lists_each_kept_account_flat() {
    let filters = Filters {
        accounts: vec![B.into()],
        ..Filters::default()
    };
    let (listed, calls) = run(archive(), &at("AWSLogs/"), &filters);
    assert_eq!(keys(&listed).len(), 6);
    assert!(calls.contains(&(format!("AWSLogs/{B}/"), false)));
    assert!(calls.iter().all(|(p, _)| !p.contains(A)));
    // o-abc123/ is listed (the accounts are below it), A's folder is not.
    assert_eq!(listed.folders_passed_over, 1);
}

#[test]
fn a_folder_that_cannot_be_listed_is_named_and_the_rest_read() {
    let filters = Filters {
        since: Some("2026-01-01".into()),
        ..Filters::default()
    };
    let mut bucket = archive();
    bucket.refused = vec![format!("AWSLogs/{B}/CloudTrail/eu-west-1/2026/")];
    let (listed, _) = run(bucket, &at(""), &filters);
    assert_eq!(listed.skipped.len(), 1);
    assert_eq!(
        listed.skipped[0].source,
        format!("s3://trail/AWSLogs/{B}/CloudTrail/eu-west-1/2026/")
    );
    assert!(listed.skipped[0]
        .reason
        .contains("cannot list: AccessDenied"));
    // A's six days (2025-12-31 is the day's margin before 01-01) and B's 2025-12-31,
    // listed before the refused folder.
    let got = keys(&listed);
    assert_eq!(got.len(), 7, "{got:?}");
    assert_eq!(got.iter().filter(|k| k.contains(B)).count(), 1);
}

#[test]
fn a_listing_that_repeats_its_token_is_a_fault_not_an_endless_loop() {
    let mut bucket = archive();
    bucket.stuck = true;
    let (listed, calls) = run(bucket, &at(""), &Filters::default());
    assert_eq!(calls.len(), 3);
    assert!(listed.inputs.is_empty());
    assert!(listed.skipped[0].reason.contains("same page token twice"));
}

#[test]
fn an_object_named_exactly_is_read_whatever_its_name() {
    let (listed, _) = run(archive(), &at("notes.txt"), &Filters::default());
    assert_eq!(keys(&listed), ["notes.txt"]);
    // A prefix is not a name: no log file under it is a fault to name, not a quiet gap.
    let (listed, _) = run(archive(), &at("notes"), &Filters::default());
    assert!(listed.inputs.is_empty());
    assert_eq!(
        listed.skipped[0].reason,
        "none of the 1 object(s) under this prefix is a log file (.json, .json.gz)"
    );
    let (listed, _) = run(archive(), &at("AWSLogs/o-typo/"), &Filters::default());
    assert_eq!(listed.skipped[0].source, "s3://trail/AWSLogs/o-typo/");
    assert_eq!(listed.skipped[0].reason, "no object under this prefix");
}

#[test]
fn another_services_files_in_a_shared_bucket_are_passed_over_and_counted() {
    let mut bucket = archive();
    bucket.keys.insert(format!(
        "AWSLogs/o-abc123/{A}/Config/eu-west-1/2026/1/3/ConfigHistory/{A}_Config_x.json.gz"
    ));
    let (listed, _) = run(bucket, &at(""), &Filters::default());
    assert_eq!(keys(&listed).len(), 12);
    assert_eq!(listed.passed_over, 1);
    assert!(listed.skipped.is_empty());
}

#[test]
fn the_consoles_folder_marker_is_not_read() {
    let mut bucket = archive();
    bucket.keys.insert("AWSLogs/".into());
    let (listed, _) = run(bucket, &at("AWSLogs/"), &Filters::default());
    assert_eq!(keys(&listed).len(), 12);
    assert!(listed.skipped.is_empty());
}

/// A small deterministic generator (no dependency for a test's randomness).
struct Lcg(u64);

impl Lcg {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        from[(self.0 >> 33) as usize % from.len()]
    }
}

/// Keys of every shape an archive (or a damaged copy of one) may hold.
fn odd_keys(n: usize) -> BTreeSet<String> {
    let parts = [
        "AWSLogs",
        "o-abc123",
        A,
        B,
        "1111",
        "CloudTrail",
        "CloudTrail-Digest",
        "eu-west-1",
        "2024",
        "2025",
        "2026",
        "01",
        "02",
        "12",
        "1",
        "29",
        "31",
        "xx",
        "late",
        "",
    ];
    let names = ["x.json.gz", "y.json", "notes.txt", "z.json.gz"];
    let mut rng = Lcg(7);
    let mut keys = BTreeSet::new();
    while keys.len() < n {
        let depth = 1 + rng
            .pick(&["0", "1", "2", "3", "4", "5", "6", "7", "8"])
            .parse::<usize>()
            .unwrap();
        // Mostly the archive's own layout, damaged here and there.
        let mut k: Vec<&str> = vec![
            "AWSLogs",
            rng.pick(&[A, B, "o-abc123"]),
            rng.pick(&[A, B, "CloudTrail"]),
        ];
        for _ in 0..depth {
            k.push(rng.pick(&parts));
        }
        k.push(rng.pick(&names));
        keys.insert(k.join("/"));
    }
    keys
}

/// Whatever the shape of the keys, the listing reads exactly what a walk of the same
/// tree on disk reads: every `.json`/`.json.gz` key outside digests whose folders are not
/// outside the filters — a folder passed over unlisted hides nothing the walk would read.
#[test]
fn the_listing_reads_what_a_walk_reads_whatever_the_shapes() {
    let all = odd_keys(3000);
    let filter_sets = [
        Filters::default(),
        Filters {
            since: Some("2026-01-02".into()),
            until: Some("2026-01-30T10:00:00Z".into()),
            accounts: vec![],
        },
        Filters {
            since: Some("2025-03-01".into()),
            accounts: vec![A.into()],
            ..Filters::default()
        },
        Filters {
            until: Some("2024-02-28".into()),
            accounts: vec![B.into()],
            ..Filters::default()
        },
    ];
    for filters in filter_sets {
        let walk: Vec<&str> = all
            .iter()
            .filter(|k| {
                let path = std::path::Path::new(k.as_str());
                (k.ends_with(".json") || k.ends_with(".json.gz"))
                    && !path.iter().any(|c| c == "CloudTrail-Digest")
                    && !filters.passes_over(path)
            })
            .map(String::as_str)
            .collect();
        let bucket = Bucket {
            keys: all.clone(),
            ..Bucket::default()
        };
        let (listed, _) = run(bucket, &at(""), &filters);
        assert_eq!(keys(&listed), walk, "{filters:?}");
    }
}

/// A folder outside the filters has nothing inside it that is not: what lets a listing
/// stop at it.
#[test]
fn outside_is_inherited_by_everything_below() {
    let keys = odd_keys(3000);
    let filters = [
        Filters {
            since: Some("2026-01-02".into()),
            until: Some("2026-02-01".into()),
            accounts: vec![A.into()],
        },
        Filters {
            since: Some("2024-02-29T23:00:00Z".into()),
            ..Filters::default()
        },
    ];
    for f in &filters {
        for k in &keys {
            let parts: Vec<&str> = k.split('/').filter(|p| !p.is_empty()).collect();
            let whole = f.outside(&parts[..parts.len() - 1]);
            for n in 0..parts.len() {
                if f.outside(&parts[..n]) {
                    assert!(whole, "{:?} is outside, {k} below it is not", &parts[..n]);
                }
            }
        }
    }
}

#[test]
fn keys_decode_as_s3_encodes_them() {
    assert_eq!(url_decoded("a+b%2Bc%20100%25").unwrap(), "a b+c 100%");
    assert_eq!(url_decoded("AWSLogs/o-x/").unwrap(), "AWSLogs/o-x/");
    assert!(url_decoded("%FF").is_err());
}

#[test]
fn addresses_parse() {
    assert_eq!(
        Location::parse("s3://my-trail.logs/AWSLogs/"),
        Some(Ok(Location {
            bucket: "my-trail.logs".into(),
            prefix: "AWSLogs/".into()
        }))
    );
    assert_eq!(
        Location::parse("s3://my-trail"),
        Some(Ok(Location {
            bucket: "my-trail".into(),
            prefix: String::new()
        }))
    );
    assert_eq!(Location::parse("logs/s3://x"), None);
    for bad in ["s3://", "s3:///x", "s3://Upper/x", "s3://ab", "s3://a b/x"] {
        assert!(matches!(Location::parse(bad), Some(Err(_))), "{bad}");
    }
}
