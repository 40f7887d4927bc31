//! Typed roles and states kept in the store as lower-case words, each with its Chinese and
//! English label (what people see comes from these tables, not from the identifiers).

/// A stored word that is not one of the allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} '{value}' is not one of: {}", allowed.join(", "))]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub allowed: &'static [&'static str],
}

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, [$($variant:ident = $word:literal, $zh:literal, $en:literal);+ $(;)?]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            const WORDS: &'static [&'static str] = &[$($word),+];

            /// The stored word (lower case).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// The label shown to people: (Chinese, English).
            pub fn label(self) -> (&'static str, &'static str) {
                match self {
                    $($name::$variant => ($zh, $en)),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($word => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        what: $what,
                        value: s.chars().take(64).collect(),
                        allowed: $name::WORDS,
                    }),
                }
            }
        }
    };
}

word_enum!(
    /// What an account may do: administrators everything, operators act on the sites of one
    /// district, viewers only look.
    Role, "role", [
        Admin = "admin", "管理员", "administrator";
        Operator = "operator", "运维人员", "operator";
        Viewer = "viewer", "查看者", "viewer";
    ]
);

word_enum!(
    /// Where an alert is in its handling: open → acknowledged → closed, or open → closed.
    AlertState, "alert state", [
        Open = "open", "未处理", "open";
        Acknowledged = "acknowledged", "已确认", "acknowledged";
        Closed = "closed", "已关闭", "closed";
    ]
);

word_enum!(
    /// A browser login session or an API token.
    CredentialKind, "credential kind", [
        Session = "session", "登录会话", "login session";
        Token = "token", "接口令牌", "API token";
    ]
);

word_enum!(
    /// Why a frame or an upload was not stored as data.
    RejectReason, "reject reason", [
        BadFrame = "bad_frame", "帧格式错误（长度、校验或结尾）", "malformed frame (length, CRC or ending)";
        BadSegment = "bad_segment", "数据段格式错误", "malformed data segment";
        UnknownDevice = "unknown_device", "未登记的设备（MN）", "unknown device (MN)";
        WrongPassword = "wrong_password", "设备密码错误", "wrong device password";
        DeviceDisabled = "device_disabled", "设备已停用", "device disabled";
        PeerNotAllowed = "peer_not_allowed", "来源地址不在允许范围", "source address not allowed";
        ModbusCrc = "modbus_crc", "未对该设备启用 CRC-16/MODBUS", "CRC-16/MODBUS not enabled for the device";
        NoReadings = "no_readings", "无数据时间或监测值（仅留存）", "no DataTime or values (kept for audit)";
        DataTimeTooOld = "data_time_too_old", "数据时间早于接收窗口", "DataTime older than the accepted window";
        DataTimeAhead = "data_time_ahead", "数据时间超前于服务器时间", "DataTime ahead of the server clock";
        BadUpload = "bad_upload", "上传字段无效（MN、CN、PNO、因子编码或标记）", "invalid upload fields (MN, CN, PNO, factor code or flag)";
        StoreRefused = "store_refused", "数据库拒绝写入", "refused by the database";
        SplitIncomplete = "split_incomplete", "分包未收齐（超时）", "split packet incomplete (parts missing at the timeout)";
        SplitRefused = "split_refused", "分包超出限制（包数、字节数或内容不一致）", "split packet over the limits (part count, bytes or mismatched parts)";
    ]
);

impl RejectReason {
    /// Whether rejections are counted under the device's MN (known devices) rather than the
    /// sender's address: an unauthenticated sender could invent a new MN for every frame.
    pub fn counted_by_device(self) -> bool {
        !matches!(
            self,
            RejectReason::BadFrame | RejectReason::BadSegment | RejectReason::UnknownDevice
        )
    }
}

impl AlertState {
    /// Whether an alert may go from `self` to `to`.
    pub fn may_become(self, to: AlertState) -> bool {
        use AlertState::*;
        matches!(
            (self, to),
            (Open, Acknowledged) | (Open, Closed) | (Acknowledged, Closed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_words_name_the_allowed_ones() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
            assert_eq!(serde_json::to_string(r).unwrap(), format!("\"{r}\""));
        }
        let e = "root".parse::<Role>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "role 'root' is not one of: admin, operator, viewer"
        );
        assert_eq!(
            "Open".parse::<AlertState>().unwrap_err().to_string(),
            "alert state 'Open' is not one of: open, acknowledged, closed"
        );
        assert_eq!(
            serde_json::from_str::<CredentialKind>("\"token\"").unwrap(),
            CredentialKind::Token
        );
        assert!(serde_json::from_str::<CredentialKind>("\"cookie\"").is_err());
        assert_eq!(AlertState::Acknowledged.label(), ("已确认", "acknowledged"));
    }

    #[test]
    fn alert_transitions() {
        use AlertState::*;
        assert!(Open.may_become(Acknowledged));
        assert!(Acknowledged.may_become(Closed));
        assert!(!Closed.may_become(Open));
        assert!(!Acknowledged.may_become(Open));
        assert!(!Open.may_become(Open));
    }
}
