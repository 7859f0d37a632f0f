//! Documents built to make the server work hard: each must get a GraphQL error with one of
//! the contract's request codes, or a normal answer; never a 5xx, quickly, and without the
//! server's memory growing. The time bound is generous for a loaded CI machine, and still
//! far below what expanding any of these documents would take.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Generous for a debug build on a busy 2-core machine; an expansion takes far longer.
const TIME_BOUND: Duration = Duration::from_secs(3);
/// How much the resident memory of the whole test process may grow while every shape
/// runs. Other tests run alongside, so this is loose; an expansion costs gigabytes.
const RSS_GROWTH_BOUND_KIB: u64 = 400 * 1024;
/// Fits every shape under the default 64 KiB body limit, with room for the envelope.
const BUDGET: usize = 60_000;

struct Shape {
    name: String,
    query: String,
    variables: Value,
}

fn shape(name: impl Into<String>, query: String, variables: Value) -> Shape {
    Shape {
        name: name.into(),
        query,
        variables,
    }
}

/// `F{n}` spreads `F{n-1}` `width` times; `F0` selects `leaf`.
fn fragment_bomb(width: usize, levels: usize, leaf: &str) -> String {
    fragment_bomb_with(width, levels, leaf, "")
}

/// The same, with `directives` on every spread.
fn fragment_bomb_with(width: usize, levels: usize, leaf: &str, directives: &str) -> String {
    let mut query = format!("{{ ...F{levels} }} fragment F0 on Query {{ {leaf} }}");
    for level in 1..=levels {
        let spreads = format!(" ...F{} {directives}", level - 1).repeat(width);
        query.push_str(&format!(" fragment F{level} on Query {{{spreads} }}"));
    }
    query
}

fn repeated(unit: &str, open: &str, close: &str) -> String {
    let count = (BUDGET - open.len() - close.len()) / unit.len();
    format!("{open}{}{close}", unit.repeat(count))
}

fn hostile_shapes() -> Vec<Shape> {
    let mut shapes = Vec::new();
    for (width, levels) in [(2, 10), (2, 23), (2, 40), (3, 20), (10, 12), (50, 8)] {
        for leaf in ["__typename", "me { id }", "__schema { queryType { name } }"] {
            shapes.push(shape(
                format!("fragment bomb {width}x{levels} of `{leaf}`"),
                fragment_bomb(width, levels, leaf),
                json!({}),
            ));
        }
    }
    shapes.push(shape(
        "fragment bomb under @skip",
        fragment_bomb(2, 30, "__typename").replacen("...F30", "...F30 @skip(if: true)", 1),
        json!({}),
    ));
    let mut inline = String::from("__typename");
    while inline.len() * 2 < BUDGET {
        inline = format!("... on Query {{ {inline} }} ... on Query {{ {inline} }}");
    }
    let inline = format!("{{ {inline} }}");
    shapes.push(shape("inline fragments doubling", inline, json!({})));
    shapes.push(shape(
        "inline fragments nested deep",
        format!(
            "{{ {}__typename{} }}",
            "... on Query { ".repeat(70),
            " }".repeat(70)
        ),
        json!({}),
    ));
    shapes.push(shape(
        "many aliases",
        repeated("a: __typename ", "{ ", "}"),
        json!({}),
    ));
    shapes.push(shape(
        "many distinct aliases",
        (0..5000)
            .map(|i| format!("a{i}: __typename "))
            .collect::<String>()
            .replace("a0:", "{ a0:")
            + "}",
        json!({}),
    ));
    shapes.push(shape(
        "many directives on one field",
        repeated("@skip(if: false) ", "{ __typename ", "}"),
        json!({}),
    ));
    shapes.push(shape(
        "@include on every spread of a bomb",
        fragment_bomb_with(2, 25, "__typename", "@include(if: true)"),
        json!({}),
    ));
    let small_fragments = 1200;
    let spreads: String = (0..small_fragments).map(|i| format!("...F{i} ")).collect();
    let fragments: String = (0..small_fragments)
        .map(|i| format!("fragment F{i} on Query {{ __typename }} "))
        .collect();
    shapes.push(shape(
        "very many small fragments",
        format!("{{ {spreads}}} {fragments}"),
        json!({}),
    ));
    shapes.push(shape(
        "many operations",
        (0..2000)
            .map(|i| format!("query Q{i} {{ __typename }} "))
            .collect(),
        json!({}),
    ));
    shapes.push(shape(
        "a fragment that spreads itself twice",
        "{ ...A } fragment A on Query { __typename ...A ...A }".to_owned(),
        json!({}),
    ));
    shapes.push(shape(
        "fragments that spread each other",
        "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }".to_owned(),
        json!({}),
    ));
    shapes.push(shape(
        "brackets nested very deep",
        format!(
            "{{ user(username: {}\"a\"{}) {{ id }} }}",
            "[".repeat(25_000),
            "]".repeat(25_000)
        ),
        json!({}),
    ));
    shapes.push(shape(
        "selections nested very deep",
        format!(
            "{}__typename{}",
            "{ me ".repeat(10_000),
            " }".repeat(10_000)
        )
        .replacen("{ me ", "{ ", 1),
        json!({}),
    ));
    shapes.push(shape(
        "a long string literal",
        format!("{{ user(username: \"{}\") {{ id }} }}", "x".repeat(BUDGET)),
        json!({}),
    ));
    shapes.push(shape(
        "very many tokens",
        repeated("a ", "{ ", "}"),
        json!({}),
    ));
    let deep_value = (0..100).fold(json!("x"), |inner, _| json!([inner]));
    shapes.push(shape(
        "a deep variable",
        "query($v: String) { user(username: $v) { id } }".to_owned(),
        json!({ "v": deep_value }),
    ));
    shapes.push(shape(
        "a wide variable",
        "query($v: String) { user(username: $v) { id } }".to_owned(),
        json!({ "v": vec![1; 20_000] }),
    ));
    shapes.push(shape(
        "a long string variable",
        "query($v: String) { user(username: $v) { id } }".to_owned(),
        json!({ "v": "x".repeat(BUDGET) }),
    ));
    let names: Vec<String> = (0..3000).map(|i| format!("v{i}")).collect();
    shapes.push(shape(
        "very many variables",
        format!(
            "query({}) {{ __typename }}",
            names
                .iter()
                .map(|n| format!("${n}: Int "))
                .collect::<String>()
        ),
        Value::Object(names.iter().map(|n| (n.clone(), json!(1))).collect()),
    ));
    shapes.push(shape(
        "near the field limit",
        format!(
            "{{ {}}}",
            (0..250)
                .map(|i| format!("a{i}: __typename "))
                .collect::<String>()
        ),
        json!({}),
    ));
    shapes.push(shape(
        "near the introspection depth limit",
        format!(
            "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
            "ofType { ".repeat(9),
            " }".repeat(9)
        ),
        json!({}),
    ));
    shapes
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

const REQUEST_CODES: &[&str] = &[
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
    "BAD_REQUEST",
    "UNAUTHENTICATED",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_document_is_answered_quickly_without_a_5xx_or_memory_growth() {
    let app = TestApp::spawn().await;
    let rss_before = resident_kib();

    for shape in hostile_shapes() {
        let started = Instant::now();
        let request = app.gql(&shape.query, shape.variables.clone());
        let response = tokio::time::timeout(TIME_BOUND * 3, request)
            .await
            .unwrap_or_else(|_| panic!("{}: no answer in {:?}", shape.name, TIME_BOUND * 3));
        let took = started.elapsed();
        let size = shape.query.len() + shape.variables.to_string().len();
        eprintln!(
            "{:<55} {size:>6} bytes {:>5} ms  RSS {:>7} KiB  HTTP {}",
            shape.name,
            took.as_millis(),
            resident_kib(),
            response.status.as_u16()
        );

        assert!(
            response.status.as_u16() < 500,
            "{} ({size} bytes): {}",
            shape.name,
            response.text
        );
        assert!(
            took < TIME_BOUND,
            "{} ({size} bytes): took {took:?}",
            shape.name
        );
        let codes: Vec<&str> = response.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["extensions"]["code"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        let answered = !response.body["data"].is_null();
        assert!(
            answered || (!codes.is_empty() && codes.iter().all(|c| REQUEST_CODES.contains(c))),
            "{} ({size} bytes): {}",
            shape.name,
            response.text
        );
    }

    let grown = resident_kib().saturating_sub(rss_before);
    assert!(
        grown < RSS_GROWTH_BOUND_KIB,
        "resident memory grew by {grown} KiB"
    );
    // Still serving.
    assert_eq!(
        app.gql("{ __typename }", json!({})).await.assert_ok()["__typename"],
        json!("Query")
    );
}
