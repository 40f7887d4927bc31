//! MQTT ingest (MQTT 接入, issue 19): subscribes to configured topics on a broker and feeds
//! each message — an HJ 212 frame (`##…`) or the JSON form of `rewater_gateway::json` — to the
//! gateway's store writer, in the same batches as TCP uploads, after the same checks (the
//! device's MN and password from the register; a device limited to source addresses is
//! refused, the broker hides the address). Messages are taken at QoS 1 with **manual
//! acknowledgement**: the PUBACK goes out only after the upload's batch is committed (or the
//! message was refused for good: bad frame, unknown device, wrong password — acknowledged so
//! that the broker does not deliver it for ever, and counted with the rejected frames).
//! PUBACKs are sent in the order the messages arrived (MQTT 3.1.1 §4.6). The session is
//! persistent (clean session off, a fixed client id), so a message the service did not
//! acknowledge — it was killed, or the store failed — is delivered again when the client
//! reconnects; duplicates are stored once by the store's (MN, CN, DataTime, PNO) key.
//! A message left unacknowledged is delivered again by the broker only on a new connection,
//! so the connection reconnects [`MqttConfig::redeliver_after`] after one.
//! An HJ 212 frame with PNUM/PNO (a part of a split record) is held in the store as TCP parts
//! are (`rewater_gateway`'s reassembly): its PUBACK goes out after the part's commit, the last
//! part's after the whole record is stored (and the whole is published as an accepted upload);
//! a part refused for good is acknowledged like any refused message, one the store has no room
//! for now (records being assembled) is not, and comes again after the reconnect.
//!
//! Several connections (`connections`) share the topics through a shared subscription
//! (`$share/GROUP/topic`), so that the broker's in-flight window (Mosquitto:
//! `max_inflight_messages`, 20 by default) applies per connection. Accepted uploads and
//! new alerts can be published for other systems ([`MqttConfig::publish_prefix`]).

mod ingest;

pub use ingest::{run, MqttStats};
pub use rumqttc;

use std::time::Duration;

/// Where and what to subscribe.
#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    /// Client id prefix; connection `i` is `{client_id}-{i}` (fixed, so the broker keeps
    /// its session and redelivers what was not acknowledged).
    pub client_id: String,
    /// Topic filters, e.g. `rewater/+/up`.
    pub topics: Vec<String>,
    /// Broker login, if it asks for one.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Connections sharing the topics (shared subscription group `client_id`) when > 1.
    pub connections: usize,
    /// Publish each upload stored from MQTT as JSON to `{prefix}/{MN}/accepted`, and new
    /// alerts to `{prefix}/alerts` (QoS 1); `None`: publish nothing.
    pub publish_prefix: Option<String>,
    pub keep_alive: Duration,
    /// After a message is left unacknowledged (not stored, or a split part the store has no
    /// room for now), the connection reconnects this much later so that the broker delivers
    /// it again (MQTT redelivers only to a new connection of the session).
    pub redeliver_after: Duration,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            host: "127.0.0.1".into(),
            port: 1883,
            client_id: "rewater-ingest".into(),
            topics: vec!["rewater/+/up".into()],
            username: None,
            password: None,
            connections: 1,
            publish_prefix: None,
            keep_alive: Duration::from_secs(30),
            redeliver_after: Duration::from_secs(10),
        }
    }
}

impl MqttConfig {
    /// Parses `HOST:PORT` (port 1883 if left out).
    pub fn with_broker(mut self, broker: &str) -> Result<MqttConfig, MqttError> {
        let (host, port) = match broker.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse()
                    .map_err(|_| MqttError::Config(format!("broker port in '{broker}'")))?,
            ),
            None => (broker, 1883),
        };
        if host.is_empty() {
            return Err(MqttError::Config(format!("broker host in '{broker}'")));
        }
        self.host = host.to_string();
        self.port = port;
        Ok(self)
    }
}

/// Errors of the MQTT ingest.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("MQTT configuration: {0}")]
    Config(String),
    #[error("MQTT client: {0}")]
    Client(#[from] rumqttc::ClientError),
}

/// An alert sink publishing new alerts as JSON to `{prefix}/alerts` (for
/// `rewater_gateway::AlertSetup::on_raised`).
pub fn alert_publisher(client: rumqttc::AsyncClient, prefix: &str) -> rewater_gateway::AlertSink {
    let topic = format!("{prefix}/alerts");
    std::sync::Arc::new(move |rows: &[rewater_store::NewAlertRow]| {
        for a in rows {
            let body = serde_json::json!({
                "site_id": a.site_id, "mn": a.mn, "kind": a.kind, "factor": a.factor,
                "severity": a.severity, "message": a.message, "data_time": a.data_time,
                "value": a.value, "limit": a.limit, "raised_at_ms": a.raised_at_ms,
            });
            // Never blocks the writer thread: a full request queue drops the message.
            if let Err(e) =
                client.try_publish(&topic, rumqttc::QoS::AtLeastOnce, false, body.to_string())
            {
                tracing::warn!(error = %e, "alert not published to MQTT");
            }
        }
    })
}
