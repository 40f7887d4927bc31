//! The subscriber connections, the handling of one message, and the ordered acknowledgements.

use crate::{MqttConfig, MqttError};
use rewater_gateway::{Handle, LatencyHistogram};
use rewater_hj212::{Decoder, Event, Options, Segment, Strictness};
use rewater_store::{IngestOutcome, RejectReason, Upload};
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, Publish, QoS};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Counters of the MQTT ingest.
#[derive(Debug, Default)]
pub struct MqttStats {
    pub messages: AtomicU64,
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    /// Parts of split records committed to the store, awaiting the rest.
    pub split_parts_held: AtomicU64,
    /// Refused for good (acknowledged, counted with the rejected frames).
    pub refused: AtomicU64,
    /// Not stored (store failure, stopping, or a split part the store has no room for now):
    /// not acknowledged, delivered again after a reconnect.
    pub not_stored: AtomicU64,
    /// Reconnects made so that the broker delivers again what was not acknowledged.
    pub redelivery_reconnects: AtomicU64,
    pub pubacks: AtomicU64,
    pub reconnects: AtomicU64,
    /// Subscriptions made (one per topic filter and connection, again after reconnects).
    pub subscribed: AtomicU64,
    /// Readings in stored uploads.
    pub readings: AtomicU64,
    /// From the message's arrival to its PUBACK being queued.
    pub puback_latency: LatencyHistogram,
}

/// What to do with a message once it is handled.
struct Decision {
    publish: Publish,
    arrived: Instant,
    ack: bool,
    stored: Option<Upload>,
}

/// Runs `config.connections` subscriber connections until `shutdown` turns true.
pub async fn run(
    config: MqttConfig,
    gateway: Handle,
    shutdown: watch::Receiver<bool>,
    stats: Arc<MqttStats>,
) -> Result<(), MqttError> {
    if config.topics.is_empty() {
        return Err(MqttError::Config("no topic to subscribe to".into()));
    }
    let n = config.connections.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (config, gateway, shutdown, stats) = (
            config.clone(),
            gateway.clone(),
            shutdown.clone(),
            stats.clone(),
        );
        tasks.spawn(async move { connection(i, n, config, gateway, shutdown, stats).await });
    }
    let mut result = Ok(());
    while let Some(r) = tasks.join_next().await {
        if let Ok(Err(e)) = r {
            result = Err(e);
        }
    }
    tracing::info!(
        messages = stats.messages.load(Ordering::Relaxed),
        stored = stats.stored.load(Ordering::Relaxed),
        duplicates = stats.duplicates.load(Ordering::Relaxed),
        refused = stats.refused.load(Ordering::Relaxed),
        pubacks = stats.pubacks.load(Ordering::Relaxed),
        puback_p50_ms = stats.puback_latency.quantile_ms(0.5),
        puback_p99_ms = stats.puback_latency.quantile_ms(0.99),
        "MQTT ingest stopped"
    );
    result
}

fn options(i: usize, config: &MqttConfig) -> MqttOptions {
    let mut o = MqttOptions::new(
        format!("{}-{i}", config.client_id),
        &config.host,
        config.port,
    );
    o.set_keep_alive(config.keep_alive)
        .set_clean_session(false)
        .set_manual_acks(true)
        // HJ 212 frames are at most ~10 KB; JSON uploads at most 16 KiB.
        .set_max_packet_size(64 * 1024, 64 * 1024);
    if let (Some(u), Some(p)) = (&config.username, &config.password) {
        o.set_credentials(u, p);
    }
    o
}

async fn connection(
    i: usize,
    n: usize,
    config: MqttConfig,
    gateway: Handle,
    mut shutdown: watch::Receiver<bool>,
    stats: Arc<MqttStats>,
) -> Result<(), MqttError> {
    let (client, mut events) = AsyncClient::new(options(i, &config), 1024);
    let filters: Vec<String> = config
        .topics
        .iter()
        .map(|t| {
            if n > 1 {
                format!("$share/{}/{t}", config.client_id)
            } else {
                t.clone()
            }
        })
        .collect();
    // Decisions in arrival order; the acker sends their PUBACKs in that order.
    let (order_tx, order_rx) = mpsc::channel::<tokio::task::JoinHandle<Decision>>(4096);
    // Told by the acker when a message was left unacknowledged.
    let unacked = Arc::new(tokio::sync::Notify::new());
    let acker = tokio::spawn(ack_in_order(
        client.clone(),
        order_rx,
        stats.clone(),
        config.publish_prefix.clone(),
        unacked.clone(),
    ));
    // MQTT delivers an unacknowledged message again only on a new connection of the session:
    // after one, reconnect (once, `redeliver_after` later) so that it comes again.
    let mut reconnect_at: Option<tokio::time::Instant> = None;
    loop {
        let wait = async {
            match reconnect_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let ev = tokio::select! {
            ev = events.poll() => ev,
            _ = shutdown.changed() => break,
            _ = unacked.notified(), if reconnect_at.is_none() => {
                reconnect_at = Some(tokio::time::Instant::now() + config.redeliver_after);
                continue;
            }
            _ = wait => {
                reconnect_at = None;
                stats.redelivery_reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::info!(connection = i, "MQTT reconnecting for the messages not acknowledged");
                // The acknowledgements queued before it go out first; the broker then closes
                // the connection and the next poll reconnects.
                client.disconnect().await?;
                continue;
            }
        };
        match ev {
            Ok(MqttEvent::Incoming(Packet::ConnAck(c))) => {
                tracing::info!(
                    connection = i,
                    session_present = c.session_present,
                    "MQTT connected"
                );
                // Subscribing again is harmless and covers a broker that lost the session.
                for f in &filters {
                    client.subscribe(f, QoS::AtLeastOnce).await?;
                }
                stats
                    .subscribed
                    .fetch_add(filters.len() as u64, Ordering::Relaxed);
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                stats.messages.fetch_add(1, Ordering::Relaxed);
                let (gateway, stats) = (gateway.clone(), stats.clone());
                let handle = tokio::spawn(async move { handle(p, gateway, stats).await });
                if order_tx.send(handle).await.is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => {
                stats.reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(connection = i, error = %e, "MQTT connection lost; reconnecting");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => break,
                }
            }
        }
    }
    drop(order_tx);
    let _ = acker.await;
    let _ = client.disconnect().await;
    // Let the DISCONNECT go out.
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        while events.poll().await.is_ok() {}
    })
    .await;
    Ok(())
}

async fn ack_in_order(
    client: AsyncClient,
    mut order: mpsc::Receiver<tokio::task::JoinHandle<Decision>>,
    stats: Arc<MqttStats>,
    publish_prefix: Option<String>,
    unacked: Arc<tokio::sync::Notify>,
) {
    while let Some(h) = order.recv().await {
        let Ok(d) = h.await else {
            unacked.notify_one();
            continue;
        };
        if !d.ack {
            unacked.notify_one();
            continue;
        }
        if client.ack(&d.publish).await.is_err() {
            return;
        }
        stats.pubacks.fetch_add(1, Ordering::Relaxed);
        stats
            .puback_latency
            .record(d.arrived.elapsed().as_secs_f64() * 1000.0);
        if let (Some(prefix), Some(u)) = (&publish_prefix, &d.stored) {
            let topic = format!("{prefix}/{}/accepted", u.mn);
            let _ = client.try_publish(topic, QoS::AtLeastOnce, false, accepted_json(u));
        }
    }
}

/// An accepted upload as JSON, for other systems.
fn accepted_json(u: &Upload) -> String {
    let readings: serde_json::Map<String, serde_json::Value> = u
        .readings
        .iter()
        .map(|r| {
            let (value, flag) = rewater_store::ingest::stored_value_and_flag(r);
            (
                r.factor.clone(),
                serde_json::json!({"value": value, "min": r.min, "max": r.max, "cou": r.cou, "flag": flag}),
            )
        })
        .collect();
    serde_json::json!({"mn": u.mn, "cn": u.cn, "data_time": u.data_time, "pno": u.pno, "readings": readings})
        .to_string()
}

/// What a message carries.
enum Message {
    /// An upload and the password it names.
    Upload(Upload, String),
    /// One part of a split record (an HJ 212 frame with PNUM > 1 and PNO), reassembled in
    /// the store as on TCP.
    Part(Box<Segment>),
}

/// The upload a message carries and the password it names.
#[cfg(test)]
fn parse(payload: &[u8], peer: &str) -> Result<(Upload, String), (RejectReason, String)> {
    match parse_message(payload, peer)? {
        Message::Upload(u, pw) => Ok((u, pw)),
        Message::Part(_) => Err((RejectReason::BadSegment, "a split part".into())),
    }
}

/// What a message carries, or why it is refused.
fn parse_message(payload: &[u8], peer: &str) -> Result<Message, (RejectReason, String)> {
    let text = payload.strip_prefix(b" ").unwrap_or(payload);
    if text.first() == Some(&b'{') {
        return rewater_gateway::json::parse(text, peer)
            .map(|(u, pw)| Message::Upload(u, pw))
            .map_err(|e| (RejectReason::BadUpload, e.to_string()));
    }
    let mut d = Decoder::new(Options {
        lenient_tail: true,
        allow_oversize: true,
        accept_modbus_crc: false,
    });
    d.push(text);
    d.push(b"\r\n");
    while let Some(ev) = d.next_event() {
        match ev {
            Event::Frame(f) => {
                let seg = Segment::from_frame(f, Strictness::Lenient)
                    .map_err(|e| (RejectReason::BadSegment, e.to_string()))?;
                let split = seg.pnum.is_some_and(|n| n > 1) && seg.pno.is_some();
                // Without MN, CN or DataTime a part joins no record: read as an upload (and
                // refused as one) below.
                let joinable =
                    seg.mn().is_some() && seg.cn().is_some() && seg.data_time().is_some();
                if split && joinable {
                    return Ok(Message::Part(Box::new(seg)));
                }
                let pw = seg.pw().unwrap_or("").to_string();
                let u = rewater_gateway::to_upload(&seg, peer)
                    .ok_or((RejectReason::NoReadings, String::new()))?;
                return Ok(Message::Upload(u, pw));
            }
            Event::Invalid { error, .. } => {
                return Err((RejectReason::BadFrame, error.to_string()))
            }
            Event::Garbage(_) => {}
        }
    }
    Err((
        RejectReason::BadFrame,
        "no HJ 212 frame and no JSON object".into(),
    ))
}

async fn handle(p: Publish, gateway: Handle, stats: Arc<MqttStats>) -> Decision {
    let arrived = Instant::now();
    let topic: String = p.topic.chars().take(128).collect();
    let peer = format!("mqtt:{topic}");
    let refuse = |p: Publish, mn: Option<&str>, reason: RejectReason, detail: String| {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        gateway.reject(&peer, mn, &p.payload, reason, detail);
        Decision {
            publish: p,
            arrived,
            ack: true,
            stored: None,
        }
    };
    let (upload, pw) = match parse_message(&p.payload, &peer) {
        Ok(Message::Upload(u, pw)) => (u, pw),
        Ok(Message::Part(seg)) => {
            let mn = seg.mn().unwrap_or("").to_string();
            if let Err(reason) = gateway.authenticate(&mn, seg.pw().unwrap_or("")) {
                return refuse(p, Some(&mn), reason, String::new());
            }
            return split_part(p, &seg, &peer, arrived, &gateway, &stats).await;
        }
        Err((reason, detail)) => return refuse(p, None, reason, detail),
    };
    if let Err(reason) = gateway.authenticate(&upload.mn, &pw) {
        let mn = upload.mn.clone();
        return refuse(p, Some(&mn), reason, String::new());
    }
    let n = upload.readings.len() as u64;
    let keep = upload.clone();
    match gateway.submit(upload).await {
        Some(IngestOutcome::Stored { .. }) => {
            stats.stored.fetch_add(1, Ordering::Relaxed);
            stats.readings.fetch_add(n, Ordering::Relaxed);
            Decision {
                publish: p,
                arrived,
                ack: true,
                stored: Some(keep),
            }
        }
        Some(IngestOutcome::Duplicate { .. }) => {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
            Decision {
                publish: p,
                arrived,
                ack: true,
                stored: None,
            }
        }
        Some(IngestOutcome::Refused { reason }) => {
            let mn = keep.mn.clone();
            refuse(p, Some(&mn), reason, String::new())
        }
        None => {
            stats.not_stored.fetch_add(1, Ordering::Relaxed);
            Decision {
                publish: p,
                arrived,
                ack: false,
                stored: None,
            }
        }
    }
}

/// One part of a split record: acknowledged once it is committed in the store (the last one
/// once the whole record is, which is then published as an accepted upload), or refused for
/// good (acknowledged and counted, as any refused message); not acknowledged if it was not
/// stored, or if the store had no room for it now (too many records being assembled: it is
/// delivered again after a reconnect and may be held then).
async fn split_part(
    p: Publish,
    seg: &Segment,
    peer: &str,
    arrived: Instant,
    gateway: &Handle,
    stats: &MqttStats,
) -> Decision {
    use rewater_store::SplitOutcome as O;
    let (outcome, whole) = match gateway.submit_split_part(seg, peer).await {
        Some((o, w)) => (Some(o), w),
        None => (None, None),
    };
    let ack = match &outcome {
        Some(O::Complete(IngestOutcome::Stored { .. })) => {
            stats.stored.fetch_add(1, Ordering::Relaxed);
            if let Some(w) = &whole {
                stats
                    .readings
                    .fetch_add(w.readings.len() as u64, Ordering::Relaxed);
            }
            true
        }
        Some(O::Complete(_)) | Some(O::AlreadyStored) | Some(O::Repeat) => {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
            true
        }
        Some(O::Held { .. }) => {
            stats.split_parts_held.fetch_add(1, Ordering::Relaxed);
            true
        }
        Some(O::Refused { no_room: false, .. }) => {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            true
        }
        Some(O::Refused { no_room: true, .. }) | None => {
            stats.not_stored.fetch_add(1, Ordering::Relaxed);
            false
        }
    };
    Decision {
        publish: p,
        arrived,
        ack,
        stored: whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_payloads_are_refused_with_their_reason() {
        let cases: [(&[u8], RejectReason); 5] = [
            (b"", RejectReason::BadFrame),
            (b"garbage without a frame", RejectReason::BadFrame),
            (b"##0010QN=1;CP=&&&&0000", RejectReason::BadFrame),
            (b"{\"mn\": 1}", RejectReason::BadUpload),
            (&[0xff; 70_000], RejectReason::BadFrame),
        ];
        for (payload, want) in cases {
            match parse(payload, "mqtt:t") {
                Err((got, _)) => assert_eq!(
                    got,
                    want,
                    "{}",
                    String::from_utf8_lossy(&payload[..payload.len().min(40)])
                ),
                Ok(_) => panic!(
                    "accepted {:?}",
                    String::from_utf8_lossy(&payload[..payload.len().min(40)])
                ),
            }
        }
    }

    #[test]
    fn a_frame_payload_reads_as_on_tcp() {
        let seg = "QN=20250601120000001;ST=32;CN=2051;PW=pw;MN=RW1;Flag=5;CP=&&DataTime=20250601120000;w01018-Avg=23.5,w01018-Flag=N&&";
        let frame = rewater_hj212::encode_frame(seg);
        let (u, pw) = parse(frame.trim_end().as_bytes(), "mqtt:t").unwrap();
        assert_eq!(pw, "pw");
        assert_eq!((u.mn.as_str(), u.cn.as_str()), ("RW1", "2051"));
        assert_eq!(u.readings[0].value, Some(23.5));
        assert_eq!(u.readings[0].flag.as_deref(), Some("N"));
    }
}
