//! Maintenance windows (运维/检修时段): while a data logger is being serviced, its alerts are
//! suppressed (issue 13). Each window names the device, its start and end as instants (Unix
//! ms), why and who set it; adding or removing one moves the register version, so a running
//! gateway picks it up without a restart.

use crate::Result;

/// A window as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MaintenanceWindow {
    pub id: i64,
    pub mn: String,
    /// Start and end, Unix milliseconds (end exclusive).
    pub from_ms: i64,
    pub to_ms: i64,
    pub reason: String,
    pub who: String,
    pub created_at_ms: i64,
}

/// A window to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMaintenance {
    pub mn: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub reason: String,
    pub who: String,
    pub at_ms: i64,
}

/// The longest window accepted: a month (a longer outage is a disabled device).
pub const MAX_WINDOW_MS: i64 = 31 * 86_400_000;

impl NewMaintenance {
    /// Checks the window; the field at fault in the error.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(crate::StoreError::Invalid(m));
        if self.mn.trim().is_empty() || self.mn.len() > 24 {
            return bad(format!("mn: '{}' is not a device MN", self.mn));
        }
        if self.to_ms <= self.from_ms {
            return bad("to: the window must end after it starts".into());
        }
        if self.to_ms - self.from_ms > MAX_WINDOW_MS {
            return bad("to: a maintenance window lasts at most 31 days".into());
        }
        if self.reason.chars().count() > 500 {
            return bad("reason: at most 500 characters".into());
        }
        if self.who.trim().is_empty() {
            return bad("who: empty".into());
        }
        Ok(())
    }
}

/// The register of maintenance windows.
pub trait MaintenanceStore {
    /// Adds a window (checked), audited; returns its id. Moves the register version.
    fn add_maintenance(&mut self, w: &NewMaintenance) -> Result<i64>;
    /// Windows ending after `after_ms`, of one device or all, by start.
    fn maintenance(&mut self, mn: Option<&str>, after_ms: i64) -> Result<Vec<MaintenanceWindow>>;
    /// Removes a window, audited; false if there was none. Moves the register version.
    fn remove_maintenance(&mut self, id: i64, who: &str, at_ms: i64) -> Result<bool>;
}

/// Checks every backend must pass (called from the SQLite and PostgreSQL tests).
pub mod conformance {
    use super::*;
    use crate::Store;

    pub fn run_all(s: &mut dyn Store) {
        let v0 = s.config_version().unwrap();
        let w = |mn: &str, from: i64, to: i64| NewMaintenance {
            mn: mn.into(),
            from_ms: from,
            to_ms: to,
            reason: "校准 calibration".into(),
            who: "op-north".into(),
            at_ms: 5,
        };
        let a = s.add_maintenance(&w("MN1", 1_000, 2_000)).unwrap();
        let b = s.add_maintenance(&w("MN2", 500, 3_000)).unwrap();
        assert!(
            s.config_version().unwrap() > v0,
            "the register version moves"
        );
        let all = s.maintenance(None, 0).unwrap();
        assert_eq!(all.iter().map(|x| x.id).collect::<Vec<_>>(), vec![b, a]);
        assert_eq!(all[1].reason, "校准 calibration");
        assert_eq!(s.maintenance(Some("MN1"), 0).unwrap().len(), 1);
        // Windows ending at or before `after` are left out.
        assert_eq!(
            s.maintenance(None, 2_000)
                .unwrap()
                .iter()
                .map(|x| x.id)
                .collect::<Vec<_>>(),
            vec![b]
        );
        // Refused: backwards, too long, long reason.
        assert!(s.add_maintenance(&w("MN1", 2_000, 1_000)).is_err());
        assert!(s.add_maintenance(&w("MN1", 0, MAX_WINDOW_MS + 1)).is_err());
        let mut long = w("MN1", 0, 10);
        long.reason = "x".repeat(501);
        assert!(s.add_maintenance(&long).is_err());
        let v1 = s.config_version().unwrap();
        assert!(s.remove_maintenance(a, "op-north", 9).unwrap());
        assert!(!s.remove_maintenance(a, "op-north", 9).unwrap());
        assert!(s.config_version().unwrap() > v1);
        assert_eq!(s.maintenance(None, 0).unwrap().len(), 1);
        let log = s.audit_log(50).unwrap();
        assert!(log
            .iter()
            .any(|e| e.action == "maintenance.add" && e.who == "op-north"));
        assert!(log
            .iter()
            .any(|e| e.action == "maintenance.remove" && e.target.contains(&a.to_string())));
        assert!(s.remove_maintenance(b, "op-north", 10).unwrap());
    }
}
