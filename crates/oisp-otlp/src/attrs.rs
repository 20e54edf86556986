//! Building OTLP attribute lists (`KeyValue`s) without ceremony.

use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, ArrayValue, KeyValue};

/// An ordered attribute list. `None` values are skipped, so optional event fields map directly.
#[derive(Debug, Default, Clone)]
pub struct Attrs(pub Vec<KeyValue>);

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A string `AnyValue`.
pub fn string_value(s: impl Into<String>) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(s.into())),
    }
}

impl Attrs {
    pub fn new() -> Self {
        Attrs(Vec::new())
    }

    /// Sets `key` to a string (skipped when `None`).
    pub fn str<S: AsRef<str>>(&mut self, key: &str, value: Option<S>) -> &mut Self {
        if let Some(v) = value {
            self.0
                .push(kv(key, Value::StringValue(v.as_ref().to_owned())));
        }
        self
    }

    /// Sets `key` to an integer (skipped when `None`; values above `i64::MAX` saturate).
    pub fn int<I: TryInto<i64>>(&mut self, key: &str, value: Option<I>) -> &mut Self {
        if let Some(v) = value {
            let v = v.try_into().unwrap_or(i64::MAX);
            self.0.push(kv(key, Value::IntValue(v)));
        }
        self
    }

    /// Sets `key` to a double (skipped when `None` or not finite).
    pub fn double(&mut self, key: &str, value: Option<f64>) -> &mut Self {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.0.push(kv(key, Value::DoubleValue(v)));
        }
        self
    }

    /// Sets `key` to a boolean (skipped when `None`).
    pub fn bool(&mut self, key: &str, value: Option<bool>) -> &mut Self {
        if let Some(v) = value {
            self.0.push(kv(key, Value::BoolValue(v)));
        }
        self
    }

    /// Sets `key` to an array of strings (skipped when empty).
    pub fn strs(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        if !values.is_empty() {
            let values = values.into_iter().map(string_value).collect();
            self.0
                .push(kv(key, Value::ArrayValue(ArrayValue { values })));
        }
        self
    }

    /// Appends every attribute of `other`.
    pub fn extend(&mut self, other: Attrs) -> &mut Self {
        self.0.extend(other.0);
        self
    }

    pub fn into_vec(self) -> Vec<KeyValue> {
        self.0
    }
}
