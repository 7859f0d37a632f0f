//! Bounds on the variable values of a request: how many, how deeply nested, how long a
//! string or a list may be. Checked before validation, so a value no input type of the
//! schema could take is refused without being coerced, with `BAD_USER_INPUT`.
//!
//! Only the values of variables the document defines are walked: any other value is
//! never read, and costs no more than the body it came in (a client may pad a request
//! with one). Every variable counts toward the number, though.
//!
//! JSON nesting is already bounded by the JSON reader (it refuses very deep bodies), so
//! the walk below cannot exhaust the stack; its own bound is far lower.

use async_graphql::{Value, Variables};

#[derive(Debug, Clone, Copy)]
pub struct VariableBounds {
    pub max_count: usize,
    pub max_depth: usize,
    pub max_string_bytes: usize,
    pub max_list_length: usize,
}

impl VariableBounds {
    /// Why the variables are out of bounds, if they are; `defined` says which the
    /// document defines.
    pub fn check(
        &self,
        variables: &Variables,
        defined: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        if variables.len() > self.max_count {
            return Err(format!(
                "a request may carry at most {} variables",
                self.max_count
            ));
        }
        for (name, value) in variables.iter().filter(|(name, _)| defined(name)) {
            self.value(value, 1)
                .map_err(|why| format!("variable `${name}`: {why}"))?;
        }
        Ok(())
    }

    fn value(&self, value: &Value, depth: usize) -> Result<(), String> {
        if depth > self.max_depth {
            return Err(format!("nested deeper than {} levels", self.max_depth));
        }
        match value {
            Value::String(s) if s.len() > self.max_string_bytes => Err(format!(
                "a string longer than {} bytes",
                self.max_string_bytes
            )),
            Value::List(items) => {
                if items.len() > self.max_list_length {
                    return Err(format!("a list longer than {} items", self.max_list_length));
                }
                items
                    .iter()
                    .try_for_each(|item| self.value(item, depth + 1))
            }
            Value::Object(fields) => {
                if fields.len() > self.max_list_length {
                    return Err(format!(
                        "an object with more than {} fields",
                        self.max_list_length
                    ));
                }
                fields
                    .values()
                    .try_for_each(|item| self.value(item, depth + 1))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    const BOUNDS: VariableBounds = VariableBounds {
        max_count: 3,
        max_depth: 3,
        max_string_bytes: 10,
        max_list_length: 4,
    };

    fn check(value: serde_json::Value) -> Result<(), String> {
        BOUNDS.check(&Variables::from_json(value), |name| name != "unread")
    }

    #[test]
    fn ordinary_inputs_pass() {
        check(json!({ "input": { "username": "ada", "password": "pw" }, "mode": "JSON" })).unwrap();
        check(json!({})).unwrap();
    }

    #[test]
    fn too_many_variables_are_refused() {
        let err = check(json!({ "a": 1, "b": 2, "c": 3, "d": 4 })).unwrap_err();
        assert!(err.contains("at most 3 variables"), "{err}");
    }

    #[test]
    fn deep_values_are_refused_naming_the_variable() {
        check(json!({ "v": { "a": { "b": 1 } } })).unwrap();
        let err = check(json!({ "v": { "a": { "b": [1] } } })).unwrap_err();
        assert!(err.contains("$v") && err.contains("deeper"), "{err}");
    }

    #[test]
    fn long_strings_and_lists_are_refused() {
        check(json!({ "s": "0123456789" })).unwrap();
        assert!(check(json!({ "s": "0123456789a" })).is_err());
        assert!(check(json!({ "s": { "x": "0123456789a" } })).is_err());
        check(json!({ "l": [1, 2, 3, 4] })).unwrap();
        assert!(check(json!({ "l": [1, 2, 3, 4, 5] })).is_err());
        assert!(check(json!({ "o": { "a": 1, "b": 2, "c": 3, "d": 4, "e": 5 } })).is_err());
    }

    #[test]
    fn a_value_the_document_never_reads_is_not_walked() {
        check(json!({ "unread": "a string far longer than ten bytes" })).unwrap();
    }
}
