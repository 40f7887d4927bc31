//! The registers (sites and devices), alerts, accounts and the audit log in SQLite.

use super::{word, SqliteStore};
use crate::*;
use rusqlite::{params, OptionalExtension};

fn device_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let peers: String = r.get(5)?;
    Ok(Device {
        mn: r.get(0)?,
        password_hash: r.get(1)?,
        site_id: r.get(2)?,
        lenient: r.get(3)?,
        accept_modbus_crc: r.get(4)?,
        allowed_peers: split_peers(&peers),
        disabled: r.get(6)?,
    })
}

const DEVICE_COLUMNS: &str =
    "mn, password_hash, site_id, lenient, accept_modbus_crc, allowed_peers, disabled";

fn credential_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Credential> {
    Ok(Credential {
        secret_hash: r.get(0)?,
        account: r.get(1)?,
        kind: word(r, 2)?,
        csrf: r.get(3)?,
        label: r.get(4)?,
        created_at_ms: r.get(5)?,
        expires_at_ms: r.get(6)?,
    })
}

const CREDENTIAL_COLUMNS: &str =
    "secret_hash, account, kind, csrf, label, created_at_ms, expires_at_ms";

/// Allowed source addresses are stored comma-separated (no rule contains a comma).
fn split_peers(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

impl SqliteStore {
    fn accounts_where(
        &mut self,
        clause: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<Account>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT name, role, district, password_hash, disabled, created_at_ms FROM account {clause}"
        ))?;
        let rows = st.query_map(args, |r| {
            Ok(Account {
                name: r.get(0)?,
                role: word(r, 1)?,
                district: r.get(2)?,
                password_hash: r.get(3)?,
                disabled: r.get(4)?,
                created_at_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn alert_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    Ok(Alert {
        id: r.get(0)?,
        site_id: r.get(1)?,
        mn: r.get(2)?,
        kind: r.get(3)?,
        factor: r.get(4)?,
        severity: r.get(5)?,
        message: r.get(6)?,
        data_time: r.get(7)?,
        value: r.get(8)?,
        limit: r.get(9)?,
        state: word(r, 10)?,
        raised_at_ms: r.get(11)?,
        recovered_at_ms: r.get(12)?,
    })
}

impl SiteStore for SqliteStore {
    fn put_site(&mut self, s: &Site) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO site (id, name, kind, standard, district, lon, lat, model_node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, standard = excluded.standard,
               district = excluded.district, lon = excluded.lon, lat = excluded.lat, model_node = excluded.model_node",
            params![s.id, s.name, s.kind, s.standard, s.district, s.location.map(|l| l[0]), s.location.map(|l| l[1]), s.model_node],
        )?;
        Self::bump_config(&tx)?;
        tx.commit()?;
        Ok(())
    }

    fn sites(&mut self) -> Result<Vec<Site>> {
        let mut st = self.conn.prepare(
            "SELECT id, name, kind, standard, district, lon, lat, model_node FROM site ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            let (lon, lat): (Option<f64>, Option<f64>) = (r.get(5)?, r.get(6)?);
            Ok(Site {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                standard: r.get(3)?,
                district: r.get(4)?,
                location: lon.zip(lat).map(|(a, b)| [a, b]),
                model_node: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_devices(&mut self, devices: &[Device]) -> Result<()> {
        devices.iter().try_for_each(check_device)?;
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO device (mn, password_hash, site_id, lenient, accept_modbus_crc, allowed_peers, disabled)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (mn) DO UPDATE SET password_hash = excluded.password_hash, site_id = excluded.site_id,
                   lenient = excluded.lenient, accept_modbus_crc = excluded.accept_modbus_crc,
                   allowed_peers = excluded.allowed_peers, disabled = excluded.disabled",
            )?;
            for d in devices {
                st.execute(params![
                    d.mn,
                    d.password_hash,
                    d.site_id,
                    d.lenient,
                    d.accept_modbus_crc,
                    d.allowed_peers.join(","),
                    d.disabled
                ])?;
            }
        }
        Self::bump_config(&tx)?;
        tx.commit()?;
        Ok(())
    }

    fn devices(&mut self) -> Result<Vec<Device>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {DEVICE_COLUMNS} FROM device ORDER BY mn"))?;
        let rows = st.query_map([], device_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn device(&mut self, mn: &str) -> Result<Option<Device>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM device WHERE mn = ?1"
        ))?;
        Ok(st.query_row(params![mn], device_from_row).optional()?)
    }

    fn set_device_password(&mut self, mn: &str, password_hash: &str) -> Result<bool> {
        if !is_device_password_hash(password_hash) {
            return Err(StoreError::Invalid(format!(
                "device {mn}: the password must be stored as hash_device_password(…)"
            )));
        }
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE device SET password_hash = ?2 WHERE mn = ?1",
            params![mn, password_hash],
        )?;
        Self::bump_config(&tx)?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn set_device_disabled(&mut self, mn: &str, disabled: bool) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE device SET disabled = ?2 WHERE mn = ?1",
            params![mn, disabled],
        )?;
        Self::bump_config(&tx)?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn config_version(&mut self) -> Result<i64> {
        let v: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'config_version'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
    }
}

impl AlertStore for SqliteStore {
    fn raise_alerts(&mut self, alerts: &[NewAlertRow]) -> Result<Vec<i64>> {
        let tx = self.conn.transaction()?;
        let mut ids = Vec::with_capacity(alerts.len());
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO alert (site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10)",
            )?;
            for a in alerts {
                st.execute(params![
                    a.site_id,
                    a.mn,
                    a.kind,
                    a.factor,
                    a.severity,
                    a.message,
                    a.data_time,
                    a.value,
                    a.limit,
                    a.raised_at_ms
                ])?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    fn recover_alerts(
        &mut self,
        keys: &[(String, String, Option<String>)],
        at_ms: i64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "UPDATE alert SET recovered_at_ms = ?4 WHERE id = (SELECT MAX(id) FROM alert
                   WHERE site_id = ?1 AND kind = ?2 AND factor IS ?3 AND recovered_at_ms IS NULL)",
            )?;
            for (site, kind, factor) in keys {
                st.execute(params![site, kind, factor, at_ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn alerts(
        &mut self,
        state: Option<AlertState>,
        site_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Alert>> {
        let state = state.map(AlertState::as_str);
        let mut st = self.conn.prepare_cached(
            "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms
             FROM alert WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR site_id = ?2) ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = st.query_map(params![state, site_id, limit], alert_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn alert_page(&mut self, f: &AlertFilter) -> Result<(Vec<Alert>, i64)> {
        // Lists travel as JSON arrays (json_each), so one statement serves every filter.
        let list = |v: &Option<Vec<String>>| {
            v.as_ref()
                .map(|l| serde_json::to_string(l).unwrap_or_else(|_| "[]".into()))
        };
        let (sites, kinds) = (list(&f.site_ids), list(&f.kinds));
        let state = f.state.map(AlertState::as_str);
        let filter = "(?1 IS NULL OR state = ?1)
             AND (?2 IS NULL OR site_id IN (SELECT value FROM json_each(?2)))
             AND (?3 IS NULL OR kind IN (SELECT value FROM json_each(?3)))
             AND (?4 IS NULL OR severity = ?4)
             AND (?5 IS NULL OR raised_at_ms >= ?5) AND (?6 IS NULL OR raised_at_ms < ?6)";
        let order = if f.oldest_first { "ASC" } else { "DESC" };
        let args = params![state, sites, kinds, f.severity, f.from_ms, f.to_ms];
        let total: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM alert WHERE {filter}"),
            args,
            |r| r.get(0),
        )?;
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms
             FROM alert WHERE {filter} ORDER BY id {order} LIMIT ?7 OFFSET ?8"
        ))?;
        let rows = st.query_map(
            params![
                state,
                sites,
                kinds,
                f.severity,
                f.from_ms,
                f.to_ms,
                f.limit.max(0),
                f.offset.max(0)
            ],
            alert_from_row,
        )?;
        Ok((rows.collect::<rusqlite::Result<_>>()?, total))
    }

    fn alert(&mut self, id: i64) -> Result<Option<Alert>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms FROM alert WHERE id = ?1",
                params![id],
                alert_from_row,
            )
            .optional()?)
    }

    fn set_alert_state(
        &mut self,
        id: i64,
        state: AlertState,
        who: &str,
        comment: &str,
        at_ms: i64,
    ) -> Result<()> {
        check_who(who)?;
        let tx = self.conn.transaction()?;
        let from: AlertState = tx
            .query_row("SELECT state FROM alert WHERE id = ?1", params![id], |r| {
                word(r, 0)
            })
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("no alert {id}")))?;
        check_transition(from, state)?;
        let state = state.as_str();
        tx.execute(
            "UPDATE alert SET state = ?2 WHERE id = ?1",
            params![id, state],
        )?;
        tx.execute("INSERT INTO alert_change (alert_id, state, who, comment, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)", params![id, state, who, comment, at_ms])?;
        tx.commit()?;
        Ok(())
    }

    fn alert_history(&mut self, id: i64) -> Result<Vec<AlertChange>> {
        let mut st = self.conn.prepare_cached("SELECT alert_id, state, who, comment, at_ms FROM alert_change WHERE alert_id = ?1 ORDER BY rowid")?;
        let rows = st.query_map(params![id], |r| {
            Ok(AlertChange {
                alert_id: r.get(0)?,
                state: word(r, 1)?,
                who: r.get(2)?,
                comment: r.get(3)?,
                at_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl AccountStore for SqliteStore {
    fn put_account(&mut self, a: &Account) -> Result<()> {
        check_account(a)?;
        self.conn.execute(
            "INSERT INTO account (name, role, district, password_hash, disabled, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, district = excluded.district, password_hash = excluded.password_hash, disabled = excluded.disabled",
            params![a.name, a.role.as_str(), a.district, a.password_hash, a.disabled, a.created_at_ms],
        )?;
        Ok(())
    }

    fn account(&mut self, name: &str) -> Result<Option<Account>> {
        Ok(self.accounts_where("WHERE name = ?1", params![name])?.pop())
    }

    fn accounts(&mut self) -> Result<Vec<Account>> {
        self.accounts_where("ORDER BY name", params![])
    }

    fn put_credential(&mut self, c: &Credential) -> Result<()> {
        self.conn.execute(
            "INSERT INTO credential (secret_hash, account, kind, csrf, label, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![c.secret_hash, c.account, c.kind.as_str(), c.csrf, c.label, c.created_at_ms, c.expires_at_ms],
        )?;
        Ok(())
    }

    fn credential(&mut self, secret_hash: &str, now_ms: i64) -> Result<Option<Credential>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credential
             WHERE secret_hash = ?1 AND (expires_at_ms IS NULL OR expires_at_ms > ?2)"
        ))?;
        Ok(st
            .query_row(params![secret_hash, now_ms], credential_from_row)
            .optional()?)
    }

    fn credentials_of(&mut self, account: &str) -> Result<Vec<Credential>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credential WHERE account = ?1
             ORDER BY created_at_ms DESC, rowid DESC"
        ))?;
        let rows = st.query_map(params![account], credential_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_credentials(&mut self, account: &str, kind: Option<CredentialKind>) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM credential WHERE account = ?1 AND (?2 IS NULL OR kind = ?2)",
            params![account, kind.map(CredentialKind::as_str)],
        )?)
    }

    fn revoke_credential(&mut self, account: &str, public_id: &str) -> Result<bool> {
        if public_id.len() != 16 || !public_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        Ok(self.conn.execute(
            "DELETE FROM credential WHERE account = ?1 AND substr(secret_hash, 1, 16) = ?2",
            params![account, public_id],
        )? > 0)
    }

    fn delete_credential(&mut self, secret_hash: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM credential WHERE secret_hash = ?1",
            params![secret_hash],
        )?;
        Ok(())
    }

    fn purge_credentials(&mut self, now_ms: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM credential WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ?1",
            params![now_ms],
        )?)
    }
}

impl AuditStore for SqliteStore {
    fn audit(&mut self, e: &AuditEntry) -> Result<()> {
        check_who(&e.who)?;
        self.conn.execute(
            "INSERT INTO audit (at_ms, who, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![e.at_ms, e.who, e.action, e.target, e.detail],
        )?;
        Ok(())
    }

    fn audit_log(&mut self, limit: i64) -> Result<Vec<AuditEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT at_ms, who, action, target, detail FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = st.query_map(params![limit], |r| {
            Ok(AuditEntry {
                at_ms: r.get(0)?,
                who: r.get(1)?,
                action: r.get(2)?,
                target: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
