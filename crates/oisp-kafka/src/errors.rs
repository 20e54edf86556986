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

#[cfg(test)]
mod tests {
    use super::*;
    use rskafka::client::error::RequestContext;

    fn server(e: ProtocolError) -> Error {
        Error::ServerError {
            protocol_error: e,
            error_message: None,
            request: RequestContext::Topic("t".into()),
            response: None,
            is_virtual: false,
        }
    }

    #[test]
    fn record_problems_are_rejected_the_rest_retried() {
        for e in [
            ProtocolError::MessageTooLarge,
            ProtocolError::RecordListTooLarge,
            ProtocolError::InvalidTopicException,
            ProtocolError::TopicAuthorizationFailed,
        ] {
            let got = classify("produce", &server(e));
            assert!(matches!(got, DeliveryError::Rejected(_)), "{got:?}");
        }
        for e in [
            ProtocolError::LeaderNotAvailable,
            ProtocolError::NotLeaderOrFollower,
            ProtocolError::RequestTimedOut,
            ProtocolError::NotEnoughReplicas,
        ] {
            let got = classify("produce", &server(e));
            assert!(matches!(got, DeliveryError::Retryable(_)), "{got:?}");
        }
        let got = classify("produce", &Error::Timeout);
        assert!(matches!(got, DeliveryError::Retryable(_)));
        assert!(got.to_string().starts_with("produce: "));
    }
}
