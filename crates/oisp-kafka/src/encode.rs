//! Message values and headers.
//!
//! Every message carries the headers `oisp-event-type`, `oisp-event-id`, `oisp-version` and
//! `content-type` (`application/json`, or `application/x-protobuf; messageType=oisp.v1.Event`).
//! The value is the item's JSON bytes unchanged (`json`) or an `oisp.v1.Event` (`protobuf`, see
//! [`crate::proto`]).

use crate::proto::ProtoCodec;
use crate::MessageFormat;
use oisp_sinks::{DeliveryError, Item};
use std::collections::BTreeMap;

/// `content-type` of JSON messages.
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// `content-type` of protobuf messages.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/x-protobuf; messageType=oisp.v1.Event";

/// Message headers: name → value bytes.
pub type Headers = BTreeMap<String, Vec<u8>>;

/// Turns items into message values and headers.
pub struct Encoder {
    proto: Option<ProtoCodec>,
}

impl Encoder {
    /// An encoder for `format` (loads the compiled protos for `protobuf`).
    pub fn new(format: MessageFormat) -> Result<Encoder, String> {
        let proto = match format {
            MessageFormat::Json => None,
            MessageFormat::Protobuf => Some(ProtoCodec::new()?),
        };
        Ok(Encoder { proto })
    }

    /// The value and headers of `item`'s message. An event the protobuf mapping cannot encode is
    /// `Rejected` with its id (retrying cannot change it).
    pub fn encode(&self, item: &Item) -> Result<(Vec<u8>, Headers), DeliveryError> {
        let event = &item.event;
        let (value, content_type) = match &self.proto {
            None => (item.json.to_vec(), JSON_CONTENT_TYPE),
            Some(codec) => {
                let bytes = codec.encode_json(&item.json).map_err(|e| {
                    DeliveryError::Rejected(format!(
                        "event {} ({}) cannot be encoded as oisp.v1.Event: {e}",
                        event.event_id,
                        event.event_type()
                    ))
                })?;
                (bytes, PROTOBUF_CONTENT_TYPE)
            }
        };
        let mut headers = BTreeMap::new();
        headers.insert(
            "oisp-event-type".into(),
            event.event_type().as_bytes().to_vec(),
        );
        headers.insert("oisp-event-id".into(), event.event_id.as_bytes().to_vec());
        headers.insert(
            "oisp-version".into(),
            event.oisp_version.as_bytes().to_vec(),
        );
        headers.insert("content-type".into(), content_type.as_bytes().to_vec());
        Ok((value, headers))
    }
}
