#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;

fn costs(query: &str) -> Result<Vec<Cost>, FragmentCycle> {
    let document = async_graphql::parser::parse_query(query).unwrap();
    let costs = operation_costs(&document)?;
    Ok(costs.into_iter().map(|(_, cost)| cost).collect())
}

fn cost(query: &str) -> Cost {
    let all = costs(query).unwrap();
    assert_eq!(all.len(), 1, "{query}");
    all[0]
}

const LOGIN: &str = r#"login(input: {username: "a", password: "b"}) { expires }"#;

#[test]
fn every_field_counts_typename_and_introspection_included() {
    let c = cost("{ __typename me { id __typename } __schema { queryType { name } } }");
    assert_eq!(c.fields, 7);
    assert_eq!(c.depth, 2);
    assert_eq!(c.introspection_depth, 3);
}

#[test]
fn aliases_and_repeats_are_each_counted() {
    let c = cost("{ a: me { id } b: me { i: id } me { id } }");
    assert_eq!(c.fields, 6);
    assert_eq!(c.aliases, 3);
}

#[test]
fn one_credential_field_is_one() {
    assert_eq!(
        cost(&format!("mutation {{ {LOGIN} }}")).credential_fields,
        1
    );
    assert_eq!(cost("{ me { id } }").credential_fields, 0);
}

#[test]
fn different_credential_fields_add_up() {
    let query = format!(
        r#"mutation {{ {LOGIN} register(input: {{username: "u", password: "p"}}) {{ id }} }}"#
    );
    assert_eq!(cost(&query).credential_fields, 2);
    for field in [
        "changePassword",
        "confirmTotp",
        "disableTotp",
        "reauthenticate",
        "addAuthHeader",
        "enrollTotp",
    ] {
        let query = format!("mutation {{ {LOGIN} {field}(x: 1) }}");
        assert_eq!(cost(&query).credential_fields, 2, "{field}");
    }
}

#[test]
fn only_root_fields_are_credential_fields() {
    let c = cost("query Q { me { login: id register: id } }");
    assert_eq!(c.credential_fields, 0);
}

#[test]
fn fragments_are_counted_each_time_they_are_spread() {
    let query = format!(
        "mutation {{ ...F ...F ... on Mutation {{ {LOGIN} }} }} fragment F on Mutation {{ {LOGIN} }}"
    );
    let c = cost(&query);
    assert_eq!(c.credential_fields, 3);
    assert_eq!(c.fields, 6);
}

#[test]
fn a_fragment_bomb_is_counted_without_being_expanded() {
    // Each level spreads the next twice: 2^60 fields if walked naively.
    let mut query = String::from("{ ...F0 }");
    for level in 0..60 {
        let next = level + 1;
        query.push_str(&format!(
            " fragment F{level} on Query {{ ...F{next} ...F{next} }}"
        ));
    }
    query.push_str(" fragment F60 on Query { __typename }");
    assert_eq!(cost(&query).fields, 1 << 60);
    // Past what a counter holds, the count saturates rather than wrapping.
    let mut query = String::from("{ ...F0 }");
    for level in 0..70 {
        let next = level + 1;
        query.push_str(&format!(
            " fragment F{level} on Query {{ ...F{next} ...F{next} }}"
        ));
    }
    query.push_str(" fragment F70 on Query { __typename }");
    assert_eq!(cost(&query).fields, usize::MAX);
}

#[test]
fn depth_runs_through_fragments() {
    let query = "{ me { ...U } } fragment U on User { id ... on User { role } }";
    assert_eq!(cost(query).depth, 2);
    let query = "{ ...Q } fragment Q on Query { me { ...U } } fragment U on User { id }";
    assert_eq!(cost(query).depth, 2);
}

#[test]
fn introspection_paths_are_measured_apart() {
    let query = "{ me { id } __schema { types { ...T } } } \
        fragment T on __Type { name fields { type { ofType { name } } } }";
    let c = cost(query);
    assert_eq!(c.depth, 2);
    assert_eq!(c.introspection_depth, 6);
    // A fragment spread under an introspection root counts as introspection.
    let query =
        "{ __type(name: \"User\") { ...T } } fragment T on __Type { ofType { ofType { name } } }";
    let c = cost(query);
    assert_eq!((c.depth, c.introspection_depth), (0, 4));
}

#[test]
fn each_operation_is_judged_on_its_own() {
    let all = costs(&format!(
        "mutation One {{ {LOGIN} }} mutation Two {{ {LOGIN} }}"
    ))
    .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|c| c.credential_fields == 1));
}

#[test]
fn a_fragment_cycle_is_reported_not_walked() {
    let err = costs("{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }")
        .unwrap_err();
    assert!(["A", "B"].contains(&err.fragment.as_str()), "{err:?}");
    let err = costs("{ ...A } fragment A on Query { ...A ...A }").unwrap_err();
    assert_eq!(err.fragment, "A");
}

#[test]
fn a_cycle_in_an_unused_fragment_is_reported_too() {
    let err = costs("{ me { id } } fragment A on Query { ...A }").unwrap_err();
    assert_eq!(err.fragment, "A");
}

#[test]
fn an_unknown_fragment_costs_nothing_here() {
    assert_eq!(cost("{ me { id } ...Missing }").fields, 2);
}
