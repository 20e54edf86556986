//! Sorting client errors into retry-later and never-going-to-work.

use oisp_sinks::DeliveryError;
use rskafka::client::error::{Error, ProtocolError};

/// Classifies an rskafka error from `what` (e.g. `produce to oisp-events/2`).
///
/// `Rejected` only for answers that retrying the same bytes cannot change: the batch or a
/// message too large, an invalid topic name, a corrupt or invalid record, missing permission on
/// the topic, a policy violation, a compression codec the broker does not accept. Everything else
/// (connection refused or reset, leader not available, timeouts, unknown answers) is `Retryable`.
pub fn classify(what: &str, err: &Error) -> DeliveryError {
    let msg = format!("{what}: {err}");
    match err {
        Error::ServerError { protocol_error, .. } if is_permanent(protocol_error) => {
            DeliveryError::Rejected(msg)
        }
        _ => DeliveryError::Retryable(msg),
    }
}

fn is_permanent(e: &ProtocolError) -> bool {
    matches!(
        e,
        ProtocolError::MessageTooLarge
            | ProtocolError::RecordListTooLarge
            | ProtocolError::InvalidTopicException
            | ProtocolError::CorruptMessage
            | ProtocolError::InvalidRecord
            | ProtocolError::TopicAuthorizationFailed
            | ProtocolError::ClusterAuthorizationFailed
            | ProtocolError::PolicyViolation
            | ProtocolError::UnsupportedCompressionType
            | ProtocolError::InvalidRequiredAcks
            | ProtocolError::UnsupportedForMessageFormat
    )
}
