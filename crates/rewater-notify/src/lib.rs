//! Alert push (告警推送): each new alert episode posted to webhooks, as generic JSON or as the
//! group-robot messages of WeCom (企业微信) and DingTalk (钉钉), on a thread of its own with a
//! bounded queue and retries, so that a slow or dead receiver never delays the gateway.
//!
//! Robot formats (source: the vendors' public robot documentation, recalled, confidence
//! medium): both take `POST` JSON `{"msgtype": "text", "text": {"content": "…"}}` and answer
//! `{"errcode": 0, …}` on success; DingTalk robots with the "keyword" security setting only
//! accept texts containing the keyword, so the configured prefix goes first.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// The language of pushed words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

type Labels = std::collections::HashMap<
    String,
    std::collections::HashMap<String, std::collections::HashMap<String, String>>,
>;

fn labels() -> &'static Labels {
    static L: std::sync::OnceLock<Labels> = std::sync::OnceLock::new();
    L.get_or_init(|| toml::from_str(include_str!("../labels.toml")).unwrap_or_default())
}

fn label<'a>(group: &str, id: &'a str, lang: Lang) -> &'a str {
    let key = if lang == Lang::Zh { "zh" } else { "en" };
    labels()
        .get(group)
        .and_then(|g| g.get(id))
        .and_then(|l| l.get(key))
        .map_or(id, |s| s.as_str())
}

/// The name of an alert kind (`exceedance` → 超标), or the id itself if unknown.
pub fn kind_label(kind: &str, lang: Lang) -> &str {
    label("kind", kind, lang)
}

/// The name of a severity (`warning` → 预警), or the id itself if unknown.
pub fn severity_label(severity: &str, lang: Lang) -> &str {
    label("severity", severity, lang)
}

/// How a webhook wants its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The alert as a JSON object (field by field, see [`Alert`]).
    Json,
    /// WeCom group robot (企业微信群机器人), `msgtype` text.
    Wecom,
    /// DingTalk custom robot (钉钉自定义机器人), `msgtype` text.
    Dingtalk,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "json" => Ok(Format::Json),
            "wecom" => Ok(Format::Wecom),
            "dingtalk" => Ok(Format::Dingtalk),
            o => Err(format!("'{o}' is not json, wecom or dingtalk")),
        }
    }
}

/// One alert to push (the words come from the engine and the site register).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub site_id: String,
    pub site_name: String,
    pub kind: String,
    pub severity: String,
    pub message: String,
    /// When the condition started, RFC 3339 in the server's zone.
    pub time: String,
    pub value: Option<f64>,
    pub limit: Option<String>,
}

/// A webhook and how to talk to it.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: String,
    pub format: Format,
    /// Put first in robot texts (a DingTalk robot's keyword, e.g. "告警").
    pub prefix: String,
    /// Attempts per message (first try included).
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub backoff: Duration,
    pub timeout: Duration,
}

impl Webhook {
    pub fn new(url: &str, format: Format) -> Webhook {
        Webhook {
            url: url.to_string(),
            format,
            prefix: "rewater 告警".into(),
            attempts: 4,
            backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The request body for a webhook of `format`.
pub fn body(format: Format, prefix: &str, a: &Alert) -> serde_json::Value {
    match format {
        Format::Json => serde_json::json!({ "alert": a }),
        Format::Wecom | Format::Dingtalk => {
            let value = a.value.map(|v| format!("，数值 {v}")).unwrap_or_default();
            let limit = a
                .limit
                .as_deref()
                .map(|l| format!("，限值 {l}"))
                .unwrap_or_default();
            let content = format!(
                "{prefix}【{}】{}（{}）{}：{}{value}{limit}。时间 {}",
                a.severity, a.site_name, a.site_id, a.kind, a.message, a.time
            );
            serde_json::json!({ "msgtype": "text", "text": { "content": content } })
        }
    }
}

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{url}: {message}")]
    Failed { url: String, message: String },
}

/// Posts once; success is a 2xx answer (and, for robots, `errcode` 0).
pub fn post_once(hook: &Webhook, a: &Alert) -> Result<(), PushError> {
    let fail = |message: String| PushError::Failed {
        url: hook.url.clone(),
        message,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(hook.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let b = body(hook.format, &hook.prefix, a).to_string();
    let mut resp = agent
        .post(&hook.url)
        .header("content-type", "application/json")
        .send(b.as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(fail(format!("HTTP {status}")));
    }
    if hook.format != Format::Json {
        let code = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("errcode").and_then(|c| c.as_i64()));
        if code != Some(0) {
            return Err(fail(format!(
                "robot answered {}",
                text.chars().take(200).collect::<String>()
            )));
        }
    }
    Ok(())
}

/// Counters of a notifier.
#[derive(Debug, Default)]
pub struct Counts {
    pub sent: AtomicU64,
    pub retried: AtomicU64,
    pub failed: AtomicU64,
    /// Dropped because the queue was full (the receiver is slower than the alerts).
    pub dropped: AtomicU64,
}

/// Pushes alerts to webhooks from its own thread; `push` never blocks.
pub struct Notifier {
    tx: SyncSender<Alert>,
    pub counts: Arc<Counts>,
}

/// Alerts waiting at most.
pub const QUEUE: usize = 1000;

impl Notifier {
    /// Starts the sending thread for these webhooks.
    pub fn start(hooks: Vec<Webhook>) -> std::io::Result<Notifier> {
        let (tx, rx) = sync_channel::<Alert>(QUEUE);
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        std::thread::Builder::new()
            .name("rewater-notify".into())
            .spawn(move || run(rx, hooks, c))?;
        Ok(Notifier { tx, counts })
    }

    /// Queues an alert for every webhook; counted as dropped if the queue is full.
    pub fn push(&self, a: Alert) {
        match self.tx.try_send(a) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.counts.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("alert push queue full: alert dropped");
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

fn run(rx: Receiver<Alert>, hooks: Vec<Webhook>, counts: Arc<Counts>) {
    while let Ok(a) = rx.recv() {
        for hook in &hooks {
            deliver(hook, &a, &counts);
        }
    }
}

/// One alert to one webhook, with retries and doubling waits.
fn deliver(hook: &Webhook, a: &Alert, counts: &Counts) {
    let mut wait = hook.backoff;
    for attempt in 1..=hook.attempts.max(1) {
        match post_once(hook, a) {
            Ok(()) => {
                counts.sent.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) if attempt < hook.attempts => {
                counts.retried.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, attempt, "alert push failed; retrying");
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
            }
            Err(e) => {
                counts.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "alert push failed for good");
            }
        }
    }
}
