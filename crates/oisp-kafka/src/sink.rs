//! [`KafkaSink`]: one producer connection, one `deliver` = the batch produced and acknowledged.

use crate::encode::Encoder;
use crate::errors::classify;
use crate::key::{partition_for, Keyer};
use crate::settings::Settings;
use crate::KafkaConfig;
use oisp_sinks::{DeliveryError, Item, Sink};
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;
use rskafka::BackoffConfig;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Upper bound on the uncompressed size of one produce request's records. Kafka's default
/// `message.max.bytes` (the largest record batch a broker accepts) is 1 MiB; staying under it
/// uncompressed means the default broker accepts every batch we build. A single larger record is
/// sent alone (the broker may still refuse it: `Rejected`, raise `message.max.bytes`).
const MAX_REQUEST_BYTES: usize = 900 * 1024;

/// A producer to a Kafka-protocol broker (kind `kafka`).
///
/// Contract (see [`oisp_sinks::Sink`]):
/// - `deliver` produces every item of the batch with `acks = all`, the records of one partition
///   in batch order, and returns `Ok` only when the broker acknowledged all of them.
/// - It returns within the configured `timeout` (plus `linger`; connecting and producing share
///   the one budget): `Retryable` when the brokers are unreachable, a leader is not available
///   or nothing answers in time; `Rejected` when the broker refuses the records themselves (too
///   large, invalid topic, ...; see `errors`).
/// - The connection is made lazily at the first `deliver` (a broker that is down at start is not
///   an error) and rebuilt after any retryable failure. A missing topic is created with
///   `partitions` partitions and replication factor 1 when the broker allows it; when it does not,
///   `deliver` returns `Retryable` naming the topic so an operator can create it.
/// - The sink owns a single-threaded async runtime for the client: call it from plain threads
///   (the sink worker), never from inside another async runtime.
pub struct KafkaSink {
    settings: Settings,
    keyer: Keyer,
    encoder: Encoder,
    rt: Runtime,
    conn: Option<Connection>,
    last_produce: Option<Instant>,
}

/// A connected client and one partition client per partition of the topic, sorted by id.
struct Connection {
    _client: Client,
    partitions: Vec<PartitionClient>,
}

impl KafkaSink {
    /// Builds the sink from `[kafka]`. Checks every value (brokers, topic name, durations,
    /// partitions) and returns a message naming the bad one; does not connect.
    pub fn new(config: &KafkaConfig) -> Result<KafkaSink, String> {
        let settings = Settings::from_config(config)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("kafka: cannot start the I/O runtime: {e}"))?;
        Ok(KafkaSink {
            keyer: Keyer::new(settings.key, oisp_os::hostname()),
            encoder: Encoder::new(settings.format)?,
            settings,
            rt,
            conn: None,
            last_produce: None,
        })
    }

    /// Builds the records of `batch` in order, each with its partition index.
    fn records(
        &self,
        batch: &[Item],
        partitions: usize,
    ) -> Result<Vec<(usize, Record)>, DeliveryError> {
        batch
            .iter()
            .map(|item| {
                let key = self.keyer.key(&item.event);
                let partition = partition_for(key.as_bytes(), partitions);
                let (value, headers) = self.encoder.encode(item)?;
                let timestamp = chrono::DateTime::parse_from_rfc3339(&item.event.ts)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_else(|_| chrono::Utc::now());
                let record = Record {
                    key: Some(key.into_bytes()),
                    value: Some(value),
                    headers,
                    timestamp,
                };
                Ok((partition, record))
            })
            .collect()
    }

    /// Waits out the rest of `linger` since the last attempt ended when the batch is not full,
    /// so events arriving meanwhile join the next batch.
    fn wait_linger(&self, batch_len: usize) {
        if batch_len >= self.max_batch() || self.settings.linger.is_zero() {
            return;
        }
        if let Some(last) = self.last_produce {
            let due = last + self.settings.linger;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    }
}

impl Sink for KafkaSink {
    fn kind(&self) -> &'static str {
        "kafka"
    }

    fn target(&self) -> String {
        format!(
            "{}/{}",
            self.settings.brokers.join(","),
            self.settings.topic
        )
    }

    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.wait_linger(batch.len());
        let result = self.produce_batch(batch);
        self.last_produce = Some(Instant::now());
        result
    }

    fn max_batch(&self) -> usize {
        512
    }
}

impl KafkaSink {
    /// One attempt: connect if needed, then produce `batch` (non-empty).
    fn produce_batch(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        // One budget for the whole attempt: connecting and producing together.
        let timeout = self.settings.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let conn = self.conn.take();
        let settings = &self.settings;
        let attempt = self.rt.block_on(async {
            tokio::time::timeout_at(deadline, async {
                let conn = match conn {
                    Some(c) => c,
                    None => connect(settings).await?,
                };
                Ok::<Connection, DeliveryError>(conn)
            })
            .await
        });
        let conn = match attempt {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(no_answer(settings)),
        };
        let records = self.records(batch, conn.partitions.len());
        let records = match records {
            Ok(r) => r,
            Err(e) => {
                self.conn = Some(conn);
                return Err(e);
            }
        };
        let compression = settings.compression;
        let result = self.rt.block_on(async {
            tokio::time::timeout_at(deadline, produce(&conn, records, compression)).await
        });
        match result {
            Ok(Ok(())) => {
                self.conn = Some(conn);
                Ok(())
            }
            Ok(Err(e @ DeliveryError::Rejected(_))) => {
                self.conn = Some(conn);
                Err(e)
            }
            // A retryable failure drops the connection: the next attempt starts from fresh
            // metadata (a restarted broker, a moved leader, a recreated topic).
            Ok(Err(e)) => Err(e),
            Err(_) => Err(no_answer(&self.settings)),
        }
    }
}

fn no_answer(settings: &Settings) -> DeliveryError {
    DeliveryError::Retryable(format!(
        "kafka {}: no answer within {:?}",
        settings.brokers.join(","),
        settings.timeout
    ))
}

/// Connects, makes sure the topic exists (creating it if the broker allows) and opens a client
/// per partition.
async fn connect(settings: &Settings) -> Result<Connection, DeliveryError> {
    let brokers = settings.brokers.join(",");
    let backoff = BackoffConfig {
        init_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
        base: 2.0,
        // Well under the attempt's own timeout (the client nests retries: connect inside
        // produce) so the client gives up first and its error
        // (connection refused, leader not available, ...) names the cause.
        deadline: Some(settings.timeout / 4),
    };
    let client = ClientBuilder::new(settings.brokers.clone())
        .client_id("oisp-sensor")
        .backoff_config(backoff)
        .build()
        .await
        .map_err(|e| classify(&format!("connect to {brokers}"), &e))?;
    let mut ids = topic_partitions(&client, &settings.topic).await?;
    if ids.is_empty() {
        create_topic(&client, settings).await?;
        ids = topic_partitions(&client, &settings.topic).await?;
        if ids.is_empty() {
            ids = (0..settings.partitions).collect();
        }
    }
    let mut partitions = Vec::with_capacity(ids.len());
    for id in ids {
        let pc = client
            .partition_client(settings.topic.clone(), id, UnknownTopicHandling::Retry)
            .await
            .map_err(|e| classify(&format!("open {}/{id}", settings.topic), &e))?;
        partitions.push(pc);
    }
    Ok(Connection {
        _client: client,
        partitions,
    })
}

/// The topic's partition ids, sorted; empty when the topic does not exist.
async fn topic_partitions(client: &Client, topic: &str) -> Result<Vec<i32>, DeliveryError> {
    let topics = client
        .list_topics()
        .await
        .map_err(|e| classify("list topics", &e))?;
    Ok(topics
        .into_iter()
        .find(|t| t.name == topic)
        .map(|t| t.partitions.into_iter().collect())
        .unwrap_or_default())
}

/// Creates the topic. Any refusal is `Retryable` (an operator can create the topic; the events
/// wait in the queue meanwhile), with a message saying so.
async fn create_topic(client: &Client, settings: &Settings) -> Result<(), DeliveryError> {
    let controller = client
        .controller_client()
        .map_err(|e| classify("find the controller", &e))?;
    let timeout_ms = i32::try_from(settings.timeout.as_millis()).unwrap_or(i32::MAX);
    match controller
        .create_topic(settings.topic.clone(), settings.partitions, 1, timeout_ms)
        .await
    {
        Ok(()) => Ok(()),
        Err(KafkaError::ServerError {
            protocol_error: ProtocolError::TopicAlreadyExists,
            ..
        }) => Ok(()),
        Err(e) => Err(DeliveryError::Retryable(format!(
            "topic `{}` does not exist and the broker refused to create it (create it, e.g. \
             kafka-topics.sh --create --topic {}): {e}",
            settings.topic, settings.topic
        ))),
    }
}

/// Produces `records` (each with its partition index): per partition in order of first use,
/// in batch order, in requests of at most [`MAX_REQUEST_BYTES`].
async fn produce(
    conn: &Connection,
    records: Vec<(usize, Record)>,
    compression: rskafka::client::partition::Compression,
) -> Result<(), DeliveryError> {
    let mut by_partition: BTreeMap<usize, Vec<Record>> = BTreeMap::new();
    for (p, r) in records {
        by_partition.entry(p).or_default().push(r);
    }
    for (p, records) in by_partition {
        let pc = &conn.partitions[p];
        for chunk in chunks(records) {
            pc.produce(chunk, compression).await.map_err(|e| {
                classify(&format!("produce to {}/{}", pc.topic(), pc.partition()), &e)
            })?;
        }
    }
    Ok(())
}

/// Splits `records` into runs whose approximate size stays under [`MAX_REQUEST_BYTES`].
fn chunks(records: Vec<Record>) -> Vec<Vec<Record>> {
    let mut out: Vec<Vec<Record>> = Vec::new();
    let mut size = 0usize;
    for r in records {
        let n = r.approximate_size();
        match out.last_mut() {
            Some(last) if size + n <= MAX_REQUEST_BYTES => {
                size += n;
                last.push(r);
            }
            _ => {
                size = n;
                out.push(vec![r]);
            }
        }
    }
    out
}
