//! OISP events as `oisp.v1.Event` protobuf messages.
//!
//! The message types come from the spec's own protos (`vendor/oisp-spec/proto`, unmodified),
//! compiled at build time by `protox` into a descriptor set embedded here ([`DESCRIPTOR_SET`]).
//! An event's JSON is mapped onto the descriptor field by field, by name:
//!
//! - envelope keys go to the `Event` fields of the same name; `data` goes to the `data` oneof
//!   member named after the event type (`ai.request` → `ai_request`, `process.exec` →
//!   `process_exec`, ...);
//! - strings for enum fields become the enum value `PREFIX_UPPER` (`"openai"` →
//!   `AI_PROVIDER_OPENAI`, `"high"` → `CONFIDENCE_LEVEL_HIGH`), falling back to `PREFIX_OTHER`;
//! - RFC 3339 strings → `google.protobuf.Timestamp`; objects → `google.protobuf.Struct`;
//!   hex strings → `bytes` (trace/span ids); objects or arrays where the proto has a string
//!   (multi-part message content, tool arguments) → their JSON text;
//! - a key `K` with no field of that name goes to `K_struct` (objects) or `K_string` (other
//!   values) when the proto has that oneof member (agent tool `result`).
//!
//! Nothing is dropped silently: every JSON value that has no place in the proto (a key the proto
//! lacks, an enum string with no matching value and no `OTHER`, a type the field cannot hold, the
//! whole `data` of a type the proto has no message for, like `sensor.warning`) is kept in
//! `ext["oisp_sensor.unmapped"]`, a Struct keyed by the value's JSON path
//! (e.g. `data.conversation_id`).

use prost::bytes::Bytes;
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MapKey,
    MessageDescriptor, ReflectMessage, Value,
};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// The compiled OISP protos (a serialized `google.protobuf.FileDescriptorSet`, imports
/// included). Consumers can use it to decode messages (`protoc --decode --descriptor_set_in`).
pub const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/oisp_v1.bin"));

/// The `ext` key holding what did not map.
pub const UNMAPPED_KEY: &str = "oisp_sensor.unmapped";

/// Encodes event JSON as `oisp.v1.Event`.
#[derive(Debug, Clone)]
pub struct ProtoCodec {
    event: MessageDescriptor,
}

impl ProtoCodec {
    /// Loads the embedded descriptors.
    pub fn new() -> Result<ProtoCodec, String> {
        let pool = DescriptorPool::decode(DESCRIPTOR_SET)
            .map_err(|e| format!("embedded OISP protos do not load: {e}"))?;
        let event = pool
            .get_message_by_name("oisp.v1.Event")
            .ok_or("embedded OISP protos have no oisp.v1.Event")?;
        Ok(ProtoCodec { event })
    }

    /// The `oisp.v1.Event` descriptor.
    pub fn event_descriptor(&self) -> &MessageDescriptor {
        &self.event
    }

    /// Maps one event's JSON (an object, as in an `Item`) and encodes it.
    pub fn encode_json(&self, json: &[u8]) -> Result<Vec<u8>, String> {
        let value: Json = serde_json::from_slice(json).map_err(|e| format!("bad JSON: {e}"))?;
        Ok(self.to_message(&value)?.encode_to_vec())
    }

    /// Maps one event's JSON onto a dynamic `oisp.v1.Event` (see the module docs).
    pub fn to_message(&self, event: &Json) -> Result<DynamicMessage, String> {
        let obj = event.as_object().ok_or("event JSON is not an object")?;
        let mut mapper = Mapper::default();
        let mut envelope = obj.clone();
        let data = envelope.remove("data");
        let ext = envelope.remove("ext");
        let mut msg = DynamicMessage::new(self.event.clone());
        mapper.fill(&mut msg, &envelope, "");
        if let Some(data) = data {
            let member = obj
                .get("event_type")
                .and_then(Json::as_str)
                .map(|t| t.replace('.', "_"));
            let field = member
                .as_deref()
                .and_then(|m| self.event.get_field_by_name(m))
                .filter(|f| f.containing_oneof().is_some_and(|o| o.name() == "data"));
            match field {
                Some(f) => mapper.set(&mut msg, &f, &data, "data"),
                None => mapper.unmapped("data", &data),
            }
        }
        mapper.finish(&mut msg, ext.as_ref())?;
        Ok(msg)
    }
}

/// Walks JSON alongside a descriptor, collecting what does not map.
#[derive(Default)]
struct Mapper {
    unmapped: Map<String, Json>,
}

impl Mapper {
    fn unmapped(&mut self, path: &str, value: &Json) {
        self.unmapped.insert(path.to_owned(), value.clone());
    }

    /// Sets every key of `obj` on `msg` (paths prefixed with `path`).
    fn fill(&mut self, msg: &mut DynamicMessage, obj: &Map<String, Json>, path: &str) {
        let desc = msg.descriptor();
        for (key, value) in obj {
            let here = join(path, key);
            if value.is_null() {
                continue;
            }
            let field = desc.get_field_by_name(key).or_else(|| {
                let alt = if value.is_object() {
                    format!("{key}_struct")
                } else {
                    format!("{key}_string")
                };
                desc.get_field_by_name(&alt)
            });
            match field {
                Some(f) => self.set(msg, &f, value, &here),
                None => self.unmapped(&here, value),
            }
        }
    }

    /// Converts `value` for `field` and sets it; records it as unmapped when it does not fit.
    fn set(&mut self, msg: &mut DynamicMessage, field: &FieldDescriptor, value: &Json, path: &str) {
        let converted = if field.is_map() {
            self.map_value(field, value, path)
        } else if field.is_list() {
            let items: Vec<&Json> = match value {
                Json::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                match self.single(&field.kind(), item, &format!("{path}[{i}]")) {
                    Some(v) => out.push(v),
                    None => self.unmapped(&format!("{path}[{i}]"), item),
                }
            }
            Some(Value::List(out))
        } else {
            let v = self.single(&field.kind(), value, path);
            if v.is_none() {
                self.unmapped(path, value);
            }
            v
        };
        if let Some(v) = converted {
            if let Err(e) = msg.try_set_field(field, v) {
                self.unmapped(&format!("{path} ({e})"), value);
            }
        }
    }

    fn map_value(&mut self, field: &FieldDescriptor, value: &Json, path: &str) -> Option<Value> {
        let Kind::Message(entry) = field.kind() else {
            return None;
        };
        let Some(obj) = value.as_object() else {
            self.unmapped(path, value);
            return None;
        };
        let value_kind = entry.map_entry_value_field().kind();
        let mut out = HashMap::new();
        for (k, v) in obj {
            let here = join(path, k);
            match self.single(&value_kind, v, &here) {
                Some(cv) => {
                    out.insert(MapKey::String(k.clone()), cv);
                }
                None => self.unmapped(&here, v),
            }
        }
        Some(Value::Map(out))
    }

    /// One JSON value as a protobuf value of `kind`, or None when it does not fit.
    fn single(&mut self, kind: &Kind, value: &Json, path: &str) -> Option<Value> {
        match kind {
            Kind::String => Some(Value::String(match value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })),
            Kind::Bool => value.as_bool().map(Value::Bool),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => value
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .map(Value::I32),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => value.as_i64().map(Value::I64),
            Kind::Uint32 | Kind::Fixed32 => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Value::U32),
            Kind::Uint64 | Kind::Fixed64 => value.as_u64().map(Value::U64),
            Kind::Double => value.as_f64().map(Value::F64),
            Kind::Float => value.as_f64().map(|f| Value::F32(f as f32)),
            Kind::Bytes => value.as_str().map(|s| Value::Bytes(bytes_of(s))),
            Kind::Enum(e) => enum_value(e, value),
            Kind::Message(m) => self.message(m, value, path),
        }
    }

    fn message(&mut self, desc: &MessageDescriptor, value: &Json, path: &str) -> Option<Value> {
        match desc.full_name() {
            "google.protobuf.Timestamp" => timestamp(desc, value),
            "google.protobuf.Struct" => match value {
                Json::Object(o) => Some(Value::Message(to_struct(desc, o))),
                // A JSON string holding an object (tool arguments as sent by the model).
                Json::String(s) => match serde_json::from_str::<Json>(s) {
                    Ok(Json::Object(o)) => Some(Value::Message(to_struct(desc, &o))),
                    _ => None,
                },
                _ => None,
            },
            _ => {
                let obj = value.as_object()?;
                let mut msg = DynamicMessage::new(desc.clone());
                self.fill(&mut msg, obj, path);
                Some(Value::Message(msg))
            }
        }
    }

    /// Sets `ext`: the event's own `ext` plus, when something did not map,
    /// `ext[UNMAPPED_KEY]`.
    fn finish(self, msg: &mut DynamicMessage, ext: Option<&Json>) -> Result<(), String> {
        let mut ext_obj = match ext {
            Some(Json::Object(o)) => o.clone(),
            Some(Json::Null) | None => Map::new(),
            Some(other) => {
                let mut m = Map::new();
                m.insert("ext".into(), other.clone());
                m
            }
        };
        if !self.unmapped.is_empty() {
            ext_obj.insert(UNMAPPED_KEY.into(), Json::Object(self.unmapped));
        }
        if ext_obj.is_empty() {
            return Ok(());
        }
        let desc = msg.descriptor();
        let field = desc
            .get_field_by_name("ext")
            .ok_or("oisp.v1.Event has no ext")?;
        let Kind::Message(struct_desc) = field.kind() else {
            return Err("oisp.v1.Event.ext is not a message".into());
        };
        msg.try_set_field(&field, Value::Message(to_struct(&struct_desc, &ext_obj)))
            .map_err(|e| e.to_string())
    }
}

/// The enum value for a JSON string: `PREFIX` + the string upper-cased (non-alphanumerics as
/// `_`), where `PREFIX` is the zero value's name minus `UNSPECIFIED`; else `PREFIX` + `OTHER`.
/// Numbers are taken as the enum number.
fn enum_value(e: &EnumDescriptor, value: &Json) -> Option<Value> {
    if let Some(n) = value.as_i64() {
        return i32::try_from(n).ok().map(Value::EnumNumber);
    }
    let s = value.as_str()?;
    let zero = e.get_value(0)?;
    let prefix = zero.name().strip_suffix("UNSPECIFIED")?;
    let wanted: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    e.get_value_by_name(&format!("{prefix}{wanted}"))
        .or_else(|| e.get_value_by_name(&format!("{prefix}OTHER")))
        .map(|v| Value::EnumNumber(v.number()))
}

/// RFC 3339 string → Timestamp.
fn timestamp(desc: &MessageDescriptor, value: &Json) -> Option<Value> {
    let t = chrono::DateTime::parse_from_rfc3339(value.as_str()?).ok()?;
    let mut msg = DynamicMessage::new(desc.clone());
    msg.try_set_field_by_name("seconds", Value::I64(t.timestamp()))
        .ok()?;
    msg.try_set_field_by_name("nanos", Value::I32(t.timestamp_subsec_nanos() as i32))
        .ok()?;
    Some(Value::Message(msg))
}

/// A JSON object as `google.protobuf.Struct` (`desc`), values as `google.protobuf.Value`.
fn to_struct(desc: &MessageDescriptor, obj: &Map<String, Json>) -> DynamicMessage {
    let mut msg = DynamicMessage::new(desc.clone());
    let Some(fields) = desc.get_field_by_name("fields") else {
        return msg;
    };
    let Kind::Message(entry) = fields.kind() else {
        return msg;
    };
    let Kind::Message(value_desc) = entry.map_entry_value_field().kind() else {
        return msg;
    };
    let map = obj
        .iter()
        .map(|(k, v)| {
            (
                MapKey::String(k.clone()),
                Value::Message(to_value(&value_desc, desc, v)),
            )
        })
        .collect();
    // The field kinds come from the descriptor itself, so this cannot mismatch.
    let _ = msg.try_set_field(&fields, Value::Map(map));
    msg
}

/// A JSON value as `google.protobuf.Value`.
fn to_value(
    value_desc: &MessageDescriptor,
    struct_desc: &MessageDescriptor,
    v: &Json,
) -> DynamicMessage {
    let mut msg = DynamicMessage::new(value_desc.clone());
    let _ = match v {
        Json::Null => msg.try_set_field_by_name("null_value", Value::EnumNumber(0)),
        Json::Bool(b) => msg.try_set_field_by_name("bool_value", Value::Bool(*b)),
        Json::Number(n) => {
            msg.try_set_field_by_name("number_value", Value::F64(n.as_f64().unwrap_or_default()))
        }
        Json::String(s) => msg.try_set_field_by_name("string_value", Value::String(s.clone())),
        Json::Object(o) => {
            msg.try_set_field_by_name("struct_value", Value::Message(to_struct(struct_desc, o)))
        }
        Json::Array(a) => {
            let list_desc =
                value_desc
                    .get_field_by_name("list_value")
                    .and_then(|f| match f.kind() {
                        Kind::Message(m) => Some(m),
                        _ => None,
                    });
            match list_desc {
                Some(list_desc) => {
                    let mut list = DynamicMessage::new(list_desc);
                    let values = a
                        .iter()
                        .map(|x| Value::Message(to_value(value_desc, struct_desc, x)))
                        .collect();
                    let _ = list.try_set_field_by_name("values", Value::List(values));
                    msg.try_set_field_by_name("list_value", Value::Message(list))
                }
                None => Ok(()),
            }
        }
    };
    msg
}

/// Hex (even length, as trace and span ids are written) → its bytes; anything else → UTF-8.
fn bytes_of(s: &str) -> Bytes {
    let hex = s.len() & 1 == 0 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        let decoded: Option<Vec<u8>> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
            .collect();
        if let Some(d) = decoded {
            return Bytes::from(d);
        }
    }
    Bytes::from(s.as_bytes().to_vec())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}
