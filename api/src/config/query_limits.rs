//! The settings that bound what one GraphQL request may ask for: each must be at least 1
//! (0 would refuse every request, which is never what an operator means).

use super::raw::RawSettings;
use super::values::{ConfigError, invalid};

pub(super) fn check(raw: &RawSettings) -> Result<(), ConfigError> {
    let limits = [
        ("max_query_depth", raw.max_query_depth),
        ("max_query_complexity", raw.max_query_complexity),
        ("max_query_aliases", raw.max_query_aliases),
        ("max_query_operations", raw.max_query_operations),
        ("max_query_fragments", raw.max_query_fragments),
        ("max_query_tokens", raw.max_query_tokens),
        ("max_field_directives", raw.max_field_directives),
        ("max_variables", raw.max_variables),
        ("max_variable_depth", raw.max_variable_depth),
        ("max_variable_string_bytes", raw.max_variable_string_bytes),
        ("max_variable_list_length", raw.max_variable_list_length),
    ];
    match limits.into_iter().find(|(_, value)| *value == 0) {
        Some((key, _)) => Err(invalid(key, "must be at least 1")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_and_a_zero_names_its_setting() {
        let raw = RawSettings::default();
        check(&raw).unwrap();
        let defaults = [
            raw.max_query_depth,
            raw.max_query_complexity,
            raw.max_query_aliases,
            raw.max_query_operations,
            raw.max_query_fragments,
            raw.max_query_tokens,
            raw.max_field_directives,
            raw.max_variables,
            raw.max_variable_depth,
            raw.max_variable_string_bytes,
            raw.max_variable_list_length,
        ];
        // As the README's settings table gives them.
        assert_eq!(
            defaults,
            [12, 250, 128, 16, 128, 20_000, 8, 64, 16, 8192, 100]
        );
        let raw = RawSettings {
            max_variable_depth: 0,
            ..RawSettings::default()
        };
        let err = check(&raw).unwrap_err().to_string();
        assert!(err.contains("max_variable_depth"), "{err}");
    }
}
