#![allow(clippy::unwrap_used)]
use super::*;

const LIMITS: DocumentLimits = DocumentLimits {
    max_depth: 3,
    max_complexity: 10,
    max_aliases: 2,
    max_operations: 2,
    max_fragments: 2,
    max_field_directives: 2,
    max_variable_definitions: 2,
    variables: VariableBounds {
        max_count: 2,
        max_depth: 2,
        max_string_bytes: 8,
        max_list_length: 2,
    },
};

fn check(query: &str) -> Result<(), String> {
    let document = async_graphql::parser::parse_query(query).unwrap();
    LIMITS.check_document(&document).map_err(|e| {
        let code = e.extensions.as_ref().and_then(|x| x.get("code")).cloned();
        assert_eq!(
            code,
            Some(async_graphql::Value::from("GRAPHQL_VALIDATION_FAILED"))
        );
        e.message
    })
}

#[test]
fn a_document_within_every_limit_passes() {
    check("query A($a: Int, $b: Int) { me { id username @skip(if: true) @include(if: true) } }")
        .unwrap();
}

#[test]
fn each_limit_is_refused_naming_what_it_bounds() {
    let cases = [
        ("query A { a } query B { a } query C { b }", "operations"),
        (
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...C } fragment C on Query { a }",
            "fragments",
        ),
        ("{ a @x @y @z }", "directives"),
        ("{ ... @x @y @z { a } }", "directives"),
        ("query Q($a: Int, $b: Int, $c: Int) { a }", "variables"),
        ("{ a { b { c { d } } } }", "nested too deep"),
        ("{ a b c d e f g h i j k }", "too complex"),
        ("{ x: a y: b z: c }", "aliases"),
        (
            "mutation { login(x: 1) changePassword(y: 2) }",
            "credential",
        ),
        ("{ ...A } fragment A on Query { a ...A }", "spreads itself"),
    ];
    for (query, says) in cases {
        let message = check(query).unwrap_err();
        assert!(message.contains(says), "{query}: {message}");
    }
}

#[test]
fn the_fragment_bomb_is_refused_by_its_count_not_its_expansion() {
    let mut query = String::from("{ ...F0 }");
    for level in 0..2 {
        let next = level + 1;
        query.push_str(&format!(
            " fragment F{level} on Query {{ ...F{next} ...F{next} }}"
        ));
    }
    // Within the fragment limit only with a bigger one; the count is what refuses it.
    query.push_str(" fragment F2 on Query { a b c }");
    let limits = DocumentLimits {
        max_fragments: 3,
        ..LIMITS
    };
    let document = async_graphql::parser::parse_query(&query).unwrap();
    let err = limits.check_document(&document).unwrap_err();
    assert!(err.message.contains("12 fields"), "{}", err.message);
}

#[test]
fn introspection_nests_to_its_own_bound_whatever_the_depth_limit() {
    let chain = |levels: usize| {
        format!(
            "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
            "ofType { ".repeat(levels),
            " }".repeat(levels)
        )
    };
    let limits = DocumentLimits {
        max_complexity: 100,
        ..LIMITS
    };
    let run =
        |query: &str| limits.check_document(&async_graphql::parser::parse_query(query).unwrap());
    // __schema types fields type + ofType levels + name
    run(&chain(INTROSPECTION_DEPTH - 5)).unwrap();
    let err = run(&chain(INTROSPECTION_DEPTH - 4)).unwrap_err();
    assert!(err.message.contains("nested too deep"), "{}", err.message);
}
