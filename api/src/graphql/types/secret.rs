//! A secret argument (a password, a one-time password, a token): a `String` in the
//! schema, a `SecretString` from the moment it is parsed, so no `Debug` of an input type
//! or a request built from it can print it, and its memory is zeroed when dropped.

use std::borrow::Cow;

use async_graphql::registry::Registry;
use async_graphql::{InputType, InputValueError, InputValueResult, Value};

use crate::auth::secret::SecretString;

#[derive(Debug, Clone)]
pub struct Secret(pub SecretString);

impl Secret {
    pub fn into_inner(self) -> SecretString {
        self.0
    }
}

impl InputType for Secret {
    type RawValueType = Self;

    // The schema shows `String`, exactly as a plain string argument: clients see no
    // difference.
    fn type_name() -> Cow<'static, str> {
        <String as InputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <String as InputType>::create_type_info(registry)
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        <String as InputType>::parse(value)
            .map(|text| Secret(SecretString::from(text)))
            .map_err(InputValueError::propagate)
    }

    /// Only used to show default values in introspection; a secret has none.
    fn to_value(&self) -> Value {
        Value::String("[redacted]".to_owned())
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}
