use crate::helpers::TestApp;
use serde_json::{Value, json};

#[test]
fn schema_graphql_equals_the_schema_the_code_generates() {
    // Arrange
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let on_disk = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));

    // Act
    let generated = latchkey_api::graphql::sdl();

    // Assert
    if on_disk != generated {
        let first_difference = on_disk
            .lines()
            .zip(generated.lines())
            .enumerate()
            .find(|(_, (file, code))| file != code)
            .map_or_else(
                || {
                    format!(
                        "one is a prefix of the other ({} vs {} lines, {} vs {} bytes)",
                        on_disk.lines().count(),
                        generated.lines().count(),
                        on_disk.len(),
                        generated.len()
                    )
                },
                |(n, (file, code))| {
                    format!(
                        "line {}:\n  schema.graphql: {file}\n  generated:      {code}",
                        n + 1
                    )
                },
            );
        panic!(
            "schema.graphql is out of date (regenerate it with `latchkey schema > schema.graphql`); \
             first difference at {first_difference}"
        );
    }
}

/// The input field or argument called `name` in an introspection list.
fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item["name"] == json!(name)))
        .unwrap_or_else(|| panic!("no `{name}` in {list:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_keeps_the_binding_root_type_names_and_defaults() {
    // Arrange
    let app = TestApp::spawn().await;
    let query = r#"{
      __schema { queryType { name } mutationType { name } }
      loginInput: __type(name: "LoginInput") { inputFields { name defaultValue } }
      mutation: __type(name: "Mutation") { fields { name args { name defaultValue } } }
    }"#;

    // Act
    let response = app.gql(query, json!({})).await;

    // Assert
    let data = response.assert_ok();
    assert_eq!(data["__schema"]["queryType"]["name"], json!("Query"));
    assert_eq!(data["__schema"]["mutationType"]["name"], json!("Mutation"));
    let mode = named(&data["loginInput"]["inputFields"], "mode");
    assert_eq!(mode["defaultValue"], json!("JSON"));
    let logout = named(&data["mutation"]["fields"], "logout");
    assert_eq!(
        named(&logout["args"], "allSessions")["defaultValue"],
        json!("false")
    );
}
