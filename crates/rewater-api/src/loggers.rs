//! Data loggers seen from the platform (issue 19 item 4): the gaps of a site's loggers with
//! the state of their history requests (补发), and commands that set or query a logger's
//! parameters (HJ 212-2017 Table 9: 1000, 1011/1012, 1061/1062, 1063/1064, 3020/3021).
//!
//! A command is queued in the store; the gateway holding the logger's connection sends it
//! and stores the answer (9011 QnRtn, 9012 ExeRtn, reported values) with an audit entry; the
//! API waits for the answer up to `wait_s`. Commands are for administrators only.
//! Value ranges come from HJ 212-2017 as described in the project's reference notes §2.2
//! (RtdInterval 30–3600 s, MinInterval one of 1…30 min, OverTime/ReCount 1–99; confidence
//! high); the parameter names of 3020/3021 (PolId, InfoId, `ixxxxx-Info`) likewise
//! (confidence medium: the notes summarise the standard's tables).

use crate::auth::authenticate;
use crate::error::{bad, not_found, ApiResult, E400, E401, E403, E404};
use crate::extract::ApiJson;
use crate::sites::{auth_read, visible_site};
use crate::{auth, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_store::{Command, Gap, NewCommand};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

/// A gap as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GapView {
    pub id: i64,
    pub mn: String,
    /// 2051 minute, 2061 hourly, 2031 daily data.
    pub cn: String,
    pub kind_zh: String,
    pub kind_en: String,
    /// First and last missing DataTime (RFC 3339 in the devices' zone) and as wall seconds.
    pub from: String,
    pub to: String,
    pub from_data_time: i64,
    pub to_data_time: i64,
    pub interval_s: i64,
    /// Intervals missing.
    pub missing: i64,
    /// open, requested, filled or given_up.
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
    /// History requests sent for it.
    pub requests: i64,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct GapsBody {
    pub site_id: String,
    pub gaps: Vec<GapView>,
}

/// The data kinds whose gaps are requested: (CN, Chinese, English).
const KINDS: &[(&str, &str, &str)] = &[
    ("2051", "分钟数据", "minute data"),
    ("2061", "小时数据", "hourly data"),
    ("2031", "日数据", "daily data"),
];

fn gap_view(st: &ApiState, g: &Gap) -> GapView {
    let (kind_zh, kind_en) = KINDS
        .iter()
        .find(|k| k.0 == g.cn)
        .map(|k| (k.1, k.2))
        .unwrap_or(("数据", "data"));
    let (state_zh, state_en) = g.state.label();
    GapView {
        id: g.id,
        mn: g.mn.clone(),
        cn: g.cn.clone(),
        kind_zh: kind_zh.into(),
        kind_en: kind_en.into(),
        from: st.zone.rfc3339_wall(g.from_s),
        to: st.zone.rfc3339_wall(g.to_s),
        from_data_time: g.from_s,
        to_data_time: g.to_s,
        interval_s: g.interval_s,
        missing: g.missing(),
        state: g.state.as_str().into(),
        state_zh: state_zh.into(),
        state_en: state_en.into(),
        requests: g.requests,
        updated_at: st.zone.rfc3339_ms(g.updated_at_ms),
    }
}

/// The gaps found in the data of a site's loggers, newest first, with their history-request
/// state (at most 500).
#[utoipa::path(get, path = "/api/sites/{id}/gaps", tag = "sites",
    params(("id" = String, Path, description = "site id")),
    responses((status = 200, description = "gaps", body = GapsBody), E401, E403, E404))]
pub async fn site_gaps(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<GapsBody> {
    let p = auth_read(&st, &headers).await?;
    let st2 = st.clone();
    let body = with_store(&st, move |s| {
        let (site, mns) = visible_site(s, &p, &id)?;
        let mut gaps = Vec::new();
        for mn in &mns {
            gaps.extend(s.gaps(Some(mn), 500)?);
        }
        gaps.sort_by(|a, b| b.from_s.cmp(&a.from_s).then(b.id.cmp(&a.id)));
        gaps.truncate(500);
        Ok(GapsBody {
            site_id: site.id,
            gaps: gaps.iter().map(|g| gap_view(&st2, g)).collect(),
        })
    })
    .await?;
    Ok(Json(body))
}

/// A parameter a command takes.
struct Param {
    key: &'static str,
    required: bool,
    check: fn(&str) -> Result<(), String>,
}

/// A command the API may send: CN, names, parameters.
struct CommandKind {
    cn: &'static str,
    zh: &'static str,
    en: &'static str,
    params: &'static [Param],
}

fn int_in(v: &str, lo: i64, hi: i64) -> Result<(), String> {
    match v.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(()),
        _ => Err(format!("'{v}' is not a whole number from {lo} to {hi}")),
    }
}

fn data_time(v: &str) -> Result<(), String> {
    rewater_hj212::DataTime::parse(v)
        .filter(|_| v.len() == 14)
        .map(|_| ())
        .ok_or_else(|| format!("'{v}' is not a time YYYYMMDDhhmmss"))
}

fn code(v: &str) -> Result<(), String> {
    let ok = !v.is_empty() && v.len() <= 12 && v.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(())
        .ok_or_else(|| format!("'{v}' is not a factor or information code"))
}

fn info_id(v: &str) -> Result<(), String> {
    let ok = v.len() == 6 && v.starts_with('i') && v[1..].bytes().all(|b| b.is_ascii_digit());
    ok.then_some(())
        .ok_or_else(|| format!("'{v}' is not an information code (i + 5 digits)"))
}

fn info_value(v: &str) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:-_".contains(&b));
    ok.then_some(()).ok_or_else(|| {
        format!("'{v}' is not a parameter value (1–64 letters, digits, '.', ':', '-', '_')")
    })
}

const MIN_INTERVALS: &[i64] = &[1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];

const COMMANDS: &[CommandKind] = &[
    CommandKind {
        cn: "1000",
        zh: "设置超时时间及重发次数",
        en: "set timeout and retry count",
        params: &[
            Param {
                key: "OverTime",
                required: true,
                check: |v| int_in(v, 1, 99),
            },
            Param {
                key: "ReCount",
                required: true,
                check: |v| int_in(v, 1, 99),
            },
        ],
    },
    CommandKind {
        cn: "1011",
        zh: "提取现场机时间",
        en: "get the logger's time",
        params: &[Param {
            key: "PolId",
            required: false,
            check: code,
        }],
    },
    CommandKind {
        cn: "1012",
        zh: "设置现场机时间",
        en: "set the logger's time",
        params: &[
            Param {
                key: "PolId",
                required: false,
                check: code,
            },
            Param {
                key: "SystemTime",
                required: false,
                check: data_time,
            },
        ],
    },
    CommandKind {
        cn: "1061",
        zh: "提取实时数据间隔",
        en: "get the real-time data interval",
        params: &[],
    },
    CommandKind {
        cn: "1062",
        zh: "设置实时数据间隔",
        en: "set the real-time data interval",
        params: &[Param {
            key: "RtdInterval",
            required: true,
            check: |v| int_in(v, 30, 3600),
        }],
    },
    CommandKind {
        cn: "1063",
        zh: "提取分钟数据间隔",
        en: "get the minute data interval",
        params: &[],
    },
    CommandKind {
        cn: "1064",
        zh: "设置分钟数据间隔",
        en: "set the minute data interval",
        params: &[Param {
            key: "MinInterval",
            required: true,
            check: |v| match v.parse::<i64>() {
                Ok(n) if MIN_INTERVALS.contains(&n) => Ok(()),
                _ => Err(format!(
                    "'{v}' is not one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 (minutes)"
                )),
            },
        }],
    },
    CommandKind {
        cn: "3020",
        zh: "提取现场机信息",
        en: "get field-device information",
        params: &[
            Param {
                key: "PolId",
                required: false,
                check: code,
            },
            Param {
                key: "InfoId",
                required: false,
                check: info_id,
            },
            Param {
                key: "BeginTime",
                required: false,
                check: data_time,
            },
            Param {
                key: "EndTime",
                required: false,
                check: data_time,
            },
        ],
    },
    CommandKind {
        cn: "3021",
        zh: "设置现场机参数",
        en: "set a field-device parameter",
        params: &[
            Param {
                key: "PolId",
                required: false,
                check: code,
            },
            Param {
                key: "InfoId",
                required: true,
                check: info_id,
            },
        ],
    },
];

/// The two answer tables (HJ 212-2017 Tables 6 and 7): code → (Chinese, English).
fn exe_rtn_label(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "1" => ("执行成功", "executed"),
        "2" => ("执行失败，原因不明", "failed, reason unknown"),
        "3" => ("命令请求条件错误", "request condition wrong"),
        "4" => ("通讯超时", "communication timeout"),
        "5" => ("系统繁忙不能执行", "system busy"),
        "6" => ("系统故障", "system fault"),
        "100" => ("没有数据", "no data"),
        _ => return None,
    })
}

fn qn_rtn_label(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "1" => ("准备执行请求", "ready to execute"),
        "2" => ("请求被拒绝", "request refused"),
        "3" => ("密码错误", "password wrong"),
        "4" => ("MN 错误", "MN wrong"),
        "5" => ("ST 错误", "ST wrong"),
        "6" => ("Flag 错误", "Flag wrong"),
        "7" => ("QN 错误", "QN wrong"),
        "8" => ("CN 错误", "CN wrong"),
        "9" => ("CRC 校验错误", "CRC wrong"),
        "100" => ("未知错误", "unknown error"),
        _ => return None,
    })
}

/// A command to send to a logger.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLoggerCommand {
    /// 1000, 1011, 1012, 1061, 1062, 1063, 1064, 3020 or 3021.
    pub cn: String,
    /// Parameters by name, e.g. {"RtdInterval": "30"}; for 3021 also "<InfoId>-Info".
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Seconds to wait for the logger's answer (1–60, default 20); the command fails if it
    /// has not been sent by then.
    #[serde(default)]
    pub wait_s: Option<u64>,
}

/// A command and what the logger answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommandView {
    pub id: i64,
    pub mn: String,
    pub cn: String,
    pub name_zh: String,
    pub name_en: String,
    /// The CP items sent.
    pub cp: String,
    pub who: String,
    /// pending, sent, answered or failed.
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
    pub qn: Option<String>,
    /// 9011 QnRtn with its meaning.
    pub qn_rtn: Option<String>,
    pub qn_rtn_zh: Option<String>,
    pub qn_rtn_en: Option<String>,
    /// 9012 ExeRtn with its meaning.
    pub exe_rtn: Option<String>,
    pub exe_rtn_zh: Option<String>,
    pub exe_rtn_en: Option<String>,
    /// Values the logger reported (`Key=value;…`).
    pub values: String,
    pub error: Option<String>,
    pub created_at: String,
    pub done_at: Option<String>,
}

fn command_view(st: &ApiState, c: &Command) -> CommandView {
    let kind = COMMANDS.iter().find(|k| k.cn == c.cn);
    let (state_zh, state_en) = c.state.label();
    let q = c.answer.qn_rtn.as_deref().and_then(qn_rtn_label);
    let e = c.answer.exe_rtn.as_deref().and_then(exe_rtn_label);
    CommandView {
        id: c.id,
        mn: c.mn.clone(),
        cn: c.cn.clone(),
        name_zh: kind.map_or("", |k| k.zh).into(),
        name_en: kind.map_or("", |k| k.en).into(),
        cp: c.cp.clone(),
        who: c.who.clone(),
        state: c.state.as_str().into(),
        state_zh: state_zh.into(),
        state_en: state_en.into(),
        qn: c.qn.clone(),
        qn_rtn: c.answer.qn_rtn.clone(),
        qn_rtn_zh: q.map(|x| x.0.into()),
        qn_rtn_en: q.map(|x| x.1.into()),
        exe_rtn: c.answer.exe_rtn.clone(),
        exe_rtn_zh: e.map(|x| x.0.into()),
        exe_rtn_en: e.map(|x| x.1.into()),
        values: c.answer.values.clone(),
        error: c.answer.error.clone(),
        created_at: st.zone.rfc3339_ms(c.created_at_ms),
        done_at: c.done_at_ms.map(|t| st.zone.rfc3339_ms(t)),
    }
}

/// Checks a command's values against its table; the CP items in the table's order.
fn command_cp(
    st: &ApiState,
    cn: &str,
    values: &BTreeMap<String, String>,
) -> Result<String, crate::ApiError> {
    let kind = COMMANDS.iter().find(|k| k.cn == cn).ok_or_else(|| {
        let all: Vec<&str> = COMMANDS.iter().map(|k| k.cn).collect();
        bad(format!("cn: '{cn}' is not one of {}", all.join(", ")))
    })?;
    let mut items = Vec::new();
    for p in kind.params {
        match values.get(p.key) {
            Some(v) => {
                (p.check)(v).map_err(|e| bad(format!("values.{}: {e}", p.key)))?;
                items.push(format!("{}={v}", p.key));
            }
            None if cn == "1012" && p.key == "SystemTime" => {
                // The server's time in the devices' zone, as the gateway's calibration.
                let now = st.zone.wall_seconds(auth::now_ms().div_euclid(1000));
                let t = rewater_hj212::DataTime::from_wall_seconds(now);
                items.push(format!("SystemTime={t}"));
            }
            None if p.required => {
                return Err(bad(format!("values.{}: required for CN {cn}", p.key)));
            }
            None => {}
        }
    }
    let info_key = values.get("InfoId").map(|i| format!("{i}-Info"));
    if cn == "3021" {
        let key = info_key.clone().unwrap_or_default();
        let v = values
            .get(&key)
            .ok_or_else(|| bad(format!("values.{key}: the value to set is required")))?;
        info_value(v).map_err(|e| bad(format!("values.{key}: {e}")))?;
        items.push(format!("{key}={v}"));
    }
    for k in values.keys() {
        let known = kind.params.iter().any(|p| p.key == k)
            || (cn == "3021" && Some(k) == info_key.as_ref());
        if !known {
            let allowed: Vec<&str> = kind.params.iter().map(|p| p.key).collect();
            return Err(bad(format!(
                "values.{k}: not a parameter of CN {cn} (allowed: {})",
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            )));
        }
    }
    Ok(items.join(";"))
}

/// Sends a command to a logger (administrators): queued for the gateway holding the logger's
/// connection; answers with the command as it stands when the logger has answered, the
/// command has failed, or `wait_s` has passed. The answer is audited.
#[utoipa::path(post, path = "/api/loggers/{mn}/commands", tag = "devices",
    params(("mn" = String, Path, description = "the data logger's MN")),
    request_body = NewLoggerCommand,
    responses((status = 200, description = "the command and the logger's answer", body = CommandView), E400, E401, E403, E404))]
pub async fn send_command(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(mn): Path<String>,
    ApiJson(body): ApiJson<NewLoggerCommand>,
) -> ApiResult<CommandView> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let wait_s = body.wait_s.unwrap_or(20);
    if !(1..=60).contains(&wait_s) {
        return Err(bad("wait_s: from 1 to 60 seconds"));
    }
    let cp = command_cp(&st, &body.cn, &body.values)?;
    let now = auth::now_ms();
    let cmd = NewCommand {
        mn: mn.clone(),
        cn: body.cn.clone(),
        cp,
        who: p.name.clone(),
        at_ms: now,
        expires_at_ms: now + wait_s as i64 * 1000,
    };
    let id = with_store(&st, move |s| {
        s.device(&cmd.mn)?
            .ok_or_else(|| not_found(format!("no device '{}'", cmd.mn)))?;
        let id = s.add_command(&cmd)?;
        crate::audit(
            s,
            &cmd.who,
            "logger.command.queued",
            &cmd.mn,
            &format!("command {id}: CN={} CP={}", cmd.cn, cmd.cp),
        );
        Ok(id)
    })
    .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait_s);
    loop {
        let c = with_store(&st, move |s| {
            s.command(id)?
                .ok_or_else(|| not_found(format!("no command {id}")))
        })
        .await?;
        if c.state.is_done() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(command_view(&st, &c)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One command sent to a logger, with its answer (administrators).
#[utoipa::path(get, path = "/api/loggers/{mn}/commands/{id}", tag = "devices",
    params(("mn" = String, Path, description = "the data logger's MN"),
        ("id" = i64, Path, description = "command id")),
    responses((status = 200, description = "the command", body = CommandView), E401, E403, E404))]
pub async fn command(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path((mn, id)): Path<(String, i64)>,
) -> ApiResult<CommandView> {
    let p = auth_read(&st, &headers).await?;
    p.require_admin()?;
    let c = with_store(&st, move |s| {
        s.command(id)?
            .filter(|c| c.mn == mn)
            .ok_or_else(|| not_found(format!("no command {id} for logger '{mn}'")))
    })
    .await?;
    Ok(Json(command_view(&st, &c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_values_are_checked_against_the_table() {
        let st = ApiState::new(
            Box::new(rewater_store::SqliteStore::memory().unwrap()),
            Default::default(),
        );
        let v = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            command_cp(&st, "1062", &v(&[("RtdInterval", "30")])).unwrap(),
            "RtdInterval=30"
        );
        for (cn, vals, field) in [
            ("1062", v(&[("RtdInterval", "29")]), "values.RtdInterval"),
            ("1062", v(&[]), "values.RtdInterval: required"),
            ("1064", v(&[("MinInterval", "7")]), "values.MinInterval"),
            (
                "1000",
                v(&[("OverTime", "10"), ("ReCount", "100")]),
                "values.ReCount",
            ),
            (
                "1061",
                v(&[("X", "1")]),
                "values.X: not a parameter of CN 1061",
            ),
            ("9999", v(&[]), "cn: '9999'"),
            ("3021", v(&[("InfoId", "i13004")]), "values.i13004-Info"),
            (
                "3021",
                v(&[("InfoId", "i13004"), ("i13004-Info", "1&&2")]),
                "values.i13004-Info",
            ),
        ] {
            let e = command_cp(&st, cn, &vals).unwrap_err();
            assert!(e.message.contains(field), "{cn}: {}", e.message);
        }
        assert_eq!(
            command_cp(
                &st,
                "3021",
                &v(&[("InfoId", "i13004"), ("i13004-Info", "2.5")])
            )
            .unwrap(),
            "InfoId=i13004;i13004-Info=2.5"
        );
        assert!(command_cp(&st, "1012", &v(&[]))
            .unwrap()
            .starts_with("SystemTime=20"));
    }
}
