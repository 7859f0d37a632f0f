//! A GraphQL request in a `GET /graphql` query string, as the GraphQL-over-HTTP spec writes
//! it: `query`, `operationName`, and `variables` / `extensions` as JSON text.
//!
//! async-graphql's own reader expects `operation_name`, so a document with several
//! operations sent the standard way failed with "Operation name required in request.".

use serde::Deserialize;

#[derive(Deserialize)]
struct QueryString {
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

/// The request the query string carries, or `None` if it is not one.
pub fn parse(query_string: &str) -> Option<async_graphql::Request> {
    let fields: QueryString = serde_urlencoded::from_str(query_string).ok()?;
    let variables = match fields.variables.as_deref().map(str::trim) {
        None | Some("" | "null") => async_graphql::Variables::default(),
        Some(json) => serde_json::from_str(json).ok()?,
    };
    let mut request = async_graphql::Request::new(fields.query).variables(variables);
    if let Some(name) = fields.operation_name.filter(|name| !name.is_empty()) {
        request = request.operation_name(name);
    }
    Some(request)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_standard_names_are_read() {
        let request = parse(
            "query=query%20A%7Ba%7Dquery%20B%7Bb%7D&operationName=B&variables=%7B%22x%22%3A1%7D&access_token=t",
        )
        .unwrap();
        assert_eq!(request.query, "query A{a}query B{b}");
        assert_eq!(request.operation_name.as_deref(), Some("B"));
        assert_eq!(
            request.variables.get("x"),
            Some(&async_graphql::Value::from(1))
        );
    }

    #[test]
    fn an_empty_operation_name_is_none_and_bad_variables_are_no_request() {
        assert!(
            parse("query=%7Ba%7D&operationName=")
                .unwrap()
                .operation_name
                .is_none()
        );
        assert!(parse("query=%7Ba%7D&variables=%7Bx").is_none());
        assert!(parse("operationName=A").is_none());
    }
}
