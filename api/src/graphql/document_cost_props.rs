//! Property: on random documents, the memoised cost is what expanding the document would
//! count, and a fragment cycle is found exactly when there is one.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use proptest::prelude::*;

use super::operation_costs;

#[derive(Debug, Clone)]
enum Item {
    Field {
        name: &'static str,
        alias: bool,
        children: Vec<Item>,
    },
    Spread(usize),
    Inline(Vec<Item>),
}

const NAMES: &[&str] = &["a", "b", "__typename", "__schema", "login"];
const FRAGMENTS: usize = 5;

fn item() -> impl Strategy<Value = Item> {
    let leaf = prop_oneof![
        (0..NAMES.len(), any::<bool>()).prop_map(|(n, alias)| Item::Field {
            name: NAMES[n],
            alias,
            children: vec![],
        }),
        (0..FRAGMENTS).prop_map(Item::Spread),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                0..NAMES.len(),
                any::<bool>(),
                prop::collection::vec(inner.clone(), 1..3)
            )
                .prop_map(|(n, alias, children)| Item::Field {
                    name: NAMES[n],
                    alias,
                    children,
                }),
            prop::collection::vec(inner, 1..3).prop_map(Item::Inline),
        ]
    })
}

fn render(items: &[Item]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|item| match item {
            Item::Field {
                name,
                alias,
                children,
            } => {
                let alias = if *alias { "x: " } else { "" };
                let children = if children.is_empty() {
                    String::new()
                } else {
                    render(children)
                };
                format!("{alias}{name} {children}")
            }
            Item::Spread(i) => format!("...F{i}"),
            Item::Inline(children) => format!("... {}", render(children)),
        })
        .collect();
    format!("{{ {} }}", inner.join(" "))
}

/// What expanding the document counts: (fields, aliases, deepest), or `None` on a cycle.
fn expand(
    items: &[Item],
    fragments: &[Vec<Item>],
    open: &mut Vec<usize>,
) -> Option<(usize, usize, usize)> {
    let mut total = (0, 0, 0);
    for item in items {
        let (fields, aliases, depth) = match item {
            Item::Field {
                name,
                alias,
                children,
            } => {
                let (f, a, d) = expand(children, fragments, open)?;
                // Introspection depth is measured apart; count it as no plain depth here.
                let depth = if *name == "__schema" { 0 } else { d + 1 };
                (f + 1, a + usize::from(*alias), depth)
            }
            Item::Inline(children) => expand(children, fragments, open)?,
            Item::Spread(i) => {
                if open.contains(i) {
                    return None;
                }
                open.push(*i);
                let cost = expand(&fragments[*i], fragments, open)?;
                open.pop();
                cost
            }
        };
        total = (total.0 + fields, total.1 + aliases, total.2.max(depth));
    }
    Some(total)
}

fn has_cycle(fragments: &[Vec<Item>]) -> bool {
    (0..fragments.len()).any(|i| expand(&[Item::Spread(i)], fragments, &mut vec![]).is_none())
}

proptest! {
    #[test]
    fn the_memoised_cost_is_the_expanded_count(
        operation in prop::collection::vec(item(), 1..4),
        fragments in prop::collection::vec(prop::collection::vec(item(), 1..4), FRAGMENTS),
    ) {
        let mut text = format!("query Q {}", render(&operation));
        for (i, fragment) in fragments.iter().enumerate() {
            text.push_str(&format!(" fragment F{i} on Query {}", render(fragment)));
        }
        let document = async_graphql::parser::parse_query(&text).unwrap();
        let costs = operation_costs(&document);
        if has_cycle(&fragments) {
            prop_assert!(costs.is_err(), "{text}");
        } else {
            let (_, cost) = costs.unwrap()[0];
            let (fields, aliases, depth) = expand(&operation, &fragments, &mut vec![]).unwrap();
            prop_assert_eq!((cost.fields, cost.aliases, cost.depth), (fields, aliases, depth), "{}", text);
        }
    }
}
