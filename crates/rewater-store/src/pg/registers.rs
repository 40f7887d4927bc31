//! The registers (sites and devices), alerts, accounts and the audit log in PostgreSQL.

use super::{pg, PostgresStore};
use crate::*;

const DEVICE_COLUMNS: &str =
    "mn, password_hash, site_id, lenient, accept_modbus_crc, allowed_peers, disabled";

fn device_from_row(r: &::postgres::Row) -> Device {
    let peers: String = r.get(5);
    Device {
        mn: r.get(0),
        password_hash: r.get(1),
        site_id: r.get(2),
        lenient: r.get(3),
        accept_modbus_crc: r.get(4),
        allowed_peers: peers
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        disabled: r.get(6),
    }
}

const CREDENTIAL_COLUMNS: &str =
    "secret_hash, account, kind, csrf, label, created_at_ms, expires_at_ms";

fn credential_from_row(r: &::postgres::Row) -> Result<Credential> {
    Ok(Credential {
        secret_hash: r.get(0),
        account: r.get(1),
        kind: r.get::<_, String>(2).parse()?,
        csrf: r.get(3),
        label: r.get(4),
        created_at_ms: r.get(5),
        expires_at_ms: r.get(6),
    })
}

impl PostgresStore {
    fn accounts_where(
        &mut self,
        clause: &str,
        args: &[&(dyn ::postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Account>> {
        let rows = self
            .client
            .query(
                &format!("SELECT name, role, district, password_hash, disabled, created_at_ms FROM account {clause}"),
                args,
            )
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(Account {
                    name: r.get(0),
                    role: r.get::<_, String>(1).parse()?,
                    district: r.get(2),
                    password_hash: r.get(3),
                    disabled: r.get(4),
                    created_at_ms: r.get(5),
                })
            })
            .collect()
    }
}

fn alert_from_row(r: &::postgres::Row) -> Result<Alert> {
    Ok(Alert {
        id: r.get(0),
        site_id: r.get(1),
        mn: r.get(2),
        kind: r.get(3),
        factor: r.get(4),
        severity: r.get(5),
        message: r.get(6),
        data_time: r.get(7),
        value: r.get(8),
        limit: r.get(9),
        state: r.get::<_, String>(10).parse()?,
        raised_at_ms: r.get(11),
        recovered_at_ms: r.get(12),
    })
}

impl SiteStore for PostgresStore {
    fn put_site(&mut self, s: &Site) -> Result<()> {
        let mut tx = self.client.transaction().map_err(pg)?;
        tx.execute(
                "INSERT INTO site (id, name, kind, standard, district, lon, lat, model_node) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, standard = excluded.standard,
                   district = excluded.district, lon = excluded.lon, lat = excluded.lat, model_node = excluded.model_node",
                &[&s.id, &s.name, &s.kind, &s.standard, &s.district, &s.location.map(|l| l[0]), &s.location.map(|l| l[1]), &s.model_node],
            )
            .map_err(pg)?;
        Self::bump_config(&mut tx)?;
        tx.commit().map_err(pg)
    }

    fn sites(&mut self) -> Result<Vec<Site>> {
        let rows = self.client.query("SELECT id, name, kind, standard, district, lon, lat, model_node FROM site ORDER BY id", &[]).map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| {
                let (lon, lat): (Option<f64>, Option<f64>) = (r.get(5), r.get(6));
                Site {
                    id: r.get(0),
                    name: r.get(1),
                    kind: r.get(2),
                    standard: r.get(3),
                    district: r.get(4),
                    location: lon.zip(lat).map(|(a, b)| [a, b]),
                    model_node: r.get(7),
                }
            })
            .collect())
    }

    fn put_devices(&mut self, devices: &[Device]) -> Result<()> {
        devices.iter().try_for_each(check_device)?;
        let mns: Vec<&str> = devices.iter().map(|d| d.mn.as_str()).collect();
        let pws: Vec<&str> = devices.iter().map(|d| d.password_hash.as_str()).collect();
        let sites: Vec<&str> = devices.iter().map(|d| d.site_id.as_str()).collect();
        let len: Vec<bool> = devices.iter().map(|d| d.lenient).collect();
        let modbus: Vec<bool> = devices.iter().map(|d| d.accept_modbus_crc).collect();
        let peers: Vec<String> = devices.iter().map(|d| d.allowed_peers.join(",")).collect();
        let disabled: Vec<bool> = devices.iter().map(|d| d.disabled).collect();
        let mut tx = self.client.transaction().map_err(pg)?;
        tx.execute(
                "INSERT INTO device (mn, password_hash, site_id, lenient, accept_modbus_crc, allowed_peers, disabled)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::text[], $7::bool[])
                 ON CONFLICT (mn) DO UPDATE SET password_hash = excluded.password_hash, site_id = excluded.site_id,
                   lenient = excluded.lenient, accept_modbus_crc = excluded.accept_modbus_crc,
                   allowed_peers = excluded.allowed_peers, disabled = excluded.disabled",
                &[&mns, &pws, &sites, &len, &modbus, &peers, &disabled],
            )
            .map_err(pg)?;
        Self::bump_config(&mut tx)?;
        tx.commit().map_err(pg)
    }

    fn devices(&mut self) -> Result<Vec<Device>> {
        let rows = self
            .client
            .query(
                &format!("SELECT {DEVICE_COLUMNS} FROM device ORDER BY mn"),
                &[],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(device_from_row).collect())
    }

    fn device(&mut self, mn: &str) -> Result<Option<Device>> {
        let row = self
            .client
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE mn = $1"),
                &[&mn],
            )
            .map_err(pg)?;
        Ok(row.as_ref().map(device_from_row))
    }

    fn set_device_password(&mut self, mn: &str, password_hash: &str) -> Result<bool> {
        if !is_device_password_hash(password_hash) {
            return Err(StoreError::Invalid(format!(
                "device {mn}: the password must be stored as hash_device_password(…)"
            )));
        }
        let mut tx = self.client.transaction().map_err(pg)?;
        let n = tx
            .execute(
                "UPDATE device SET password_hash = $2 WHERE mn = $1",
                &[&mn, &password_hash],
            )
            .map_err(pg)?;
        Self::bump_config(&mut tx)?;
        tx.commit().map_err(pg)?;
        Ok(n > 0)
    }

    fn set_device_disabled(&mut self, mn: &str, disabled: bool) -> Result<bool> {
        let mut tx = self.client.transaction().map_err(pg)?;
        let n = tx
            .execute(
                "UPDATE device SET disabled = $2 WHERE mn = $1",
                &[&mn, &disabled],
            )
            .map_err(pg)?;
        Self::bump_config(&mut tx)?;
        tx.commit().map_err(pg)?;
        Ok(n > 0)
    }

    fn config_version(&mut self) -> Result<i64> {
        let v: Option<String> = self
            .client
            .query_opt("SELECT value FROM meta WHERE key = 'config_version'", &[])
            .map_err(pg)?
            .map(|r| r.get(0));
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
    }
}

impl AlertStore for PostgresStore {
    fn raise_alerts(&mut self, alerts: &[NewAlertRow]) -> Result<Vec<i64>> {
        let mut tx = self.client.transaction().map_err(pg)?;
        let mut ids = Vec::with_capacity(alerts.len());
        for a in alerts {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO alert (site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10) RETURNING id",
                    &[&a.site_id, &a.mn, &a.kind, &a.factor, &a.severity, &a.message, &a.data_time, &a.value, &a.limit, &a.raised_at_ms],
                )
                .map_err(pg)?
                .get(0);
            ids.push(id);
        }
        tx.commit().map_err(pg)?;
        Ok(ids)
    }

    fn recover_alerts(
        &mut self,
        keys: &[(String, String, Option<String>)],
        at_ms: i64,
    ) -> Result<()> {
        let mut tx = self.client.transaction().map_err(pg)?;
        for (site, kind, factor) in keys {
            tx.execute(
                "UPDATE alert SET recovered_at_ms = $4 WHERE id = (SELECT MAX(id) FROM alert
                   WHERE site_id = $1 AND kind = $2 AND factor IS NOT DISTINCT FROM $3 AND recovered_at_ms IS NULL)",
                &[site, kind, factor, &at_ms],
            )
            .map_err(pg)?;
        }
        tx.commit().map_err(pg)
    }

    fn alerts(
        &mut self,
        state: Option<AlertState>,
        site_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Alert>> {
        let state = state.map(AlertState::as_str);
        let rows = self
            .client
            .query(
                "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms
                 FROM alert WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR site_id = $2) ORDER BY id DESC LIMIT $3",
                &[&state, &site_id, &limit],
            )
            .map_err(pg)?;
        rows.iter().map(alert_from_row).collect()
    }

    fn alert_page(&mut self, f: &AlertFilter) -> Result<(Vec<Alert>, i64)> {
        let state = f.state.map(AlertState::as_str);
        let filter = "($1::text IS NULL OR state = $1)
             AND ($2::text[] IS NULL OR site_id = ANY($2))
             AND ($3::text[] IS NULL OR kind = ANY($3))
             AND ($4::text IS NULL OR severity = $4)
             AND ($5::bigint IS NULL OR raised_at_ms >= $5) AND ($6::bigint IS NULL OR raised_at_ms < $6)";
        let order = if f.oldest_first { "ASC" } else { "DESC" };
        let total: i64 = self
            .client
            .query_one(
                &format!("SELECT COUNT(*) FROM alert WHERE {filter}"),
                &[
                    &state,
                    &f.site_ids,
                    &f.kinds,
                    &f.severity,
                    &f.from_ms,
                    &f.to_ms,
                ],
            )
            .map_err(pg)?
            .get(0);
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms
                     FROM alert WHERE {filter} ORDER BY id {order} LIMIT $7 OFFSET $8"
                ),
                &[
                    &state,
                    &f.site_ids,
                    &f.kinds,
                    &f.severity,
                    &f.from_ms,
                    &f.to_ms,
                    &f.limit.max(0),
                    &f.offset.max(0),
                ],
            )
            .map_err(pg)?;
        Ok((
            rows.iter().map(alert_from_row).collect::<Result<_>>()?,
            total,
        ))
    }

    fn alert(&mut self, id: i64) -> Result<Option<Alert>> {
        self.client
            .query_opt(
                "SELECT id, site_id, mn, kind, factor, severity, message, data_time, value, limit_text, state, raised_at_ms, recovered_at_ms FROM alert WHERE id = $1",
                &[&id],
            )
            .map_err(pg)?
            .map(|r| alert_from_row(&r))
            .transpose()
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
        let mut tx = self.client.transaction().map_err(pg)?;
        let from: AlertState = tx
            .query_opt("SELECT state FROM alert WHERE id = $1 FOR UPDATE", &[&id])
            .map_err(pg)?
            .map(|r| r.get::<_, String>(0))
            .ok_or_else(|| StoreError::Invalid(format!("no alert {id}")))?
            .parse()?;
        check_transition(from, state)?;
        let state = state.as_str();
        tx.execute("UPDATE alert SET state = $2 WHERE id = $1", &[&id, &state])
            .map_err(pg)?;
        tx.execute("INSERT INTO alert_change (alert_id, state, who, comment, at_ms) VALUES ($1, $2, $3, $4, $5)", &[&id, &state, &who, &comment, &at_ms]).map_err(pg)?;
        tx.commit().map_err(pg)
    }

    fn alert_history(&mut self, id: i64) -> Result<Vec<AlertChange>> {
        let rows = self.client.query("SELECT alert_id, state, who, comment, at_ms FROM alert_change WHERE alert_id = $1 ORDER BY id", &[&id]).map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(AlertChange {
                    alert_id: r.get(0),
                    state: r.get::<_, String>(1).parse()?,
                    who: r.get(2),
                    comment: r.get(3),
                    at_ms: r.get(4),
                })
            })
            .collect()
    }
}

impl AccountStore for PostgresStore {
    fn put_account(&mut self, a: &Account) -> Result<()> {
        check_account(a)?;
        self.client.execute(
            "INSERT INTO account (name, role, district, password_hash, disabled, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, district = excluded.district, password_hash = excluded.password_hash, disabled = excluded.disabled",
            &[&a.name, &a.role.as_str(), &a.district, &a.password_hash, &a.disabled, &a.created_at_ms],
        ).map_err(pg)?;
        Ok(())
    }

    fn account(&mut self, name: &str) -> Result<Option<Account>> {
        Ok(self.accounts_where("WHERE name = $1", &[&name])?.pop())
    }

    fn accounts(&mut self) -> Result<Vec<Account>> {
        self.accounts_where("ORDER BY name", &[])
    }

    fn put_credential(&mut self, c: &Credential) -> Result<()> {
        self.client.execute(
            "INSERT INTO credential (secret_hash, account, kind, csrf, label, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&c.secret_hash, &c.account, &c.kind.as_str(), &c.csrf, &c.label, &c.created_at_ms, &c.expires_at_ms],
        ).map_err(pg)?;
        Ok(())
    }

    fn credential(&mut self, secret_hash: &str, now_ms: i64) -> Result<Option<Credential>> {
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credential
                     WHERE secret_hash = $1 AND (expires_at_ms IS NULL OR expires_at_ms > $2)"
                ),
                &[&secret_hash, &now_ms],
            )
            .map_err(pg)?;
        row.as_ref().map(credential_from_row).transpose()
    }

    fn credentials_of(&mut self, account: &str) -> Result<Vec<Credential>> {
        self.client
            .query(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credential WHERE account = $1
                     ORDER BY created_at_ms DESC, secret_hash DESC"
                ),
                &[&account],
            )
            .map_err(pg)?
            .iter()
            .map(credential_from_row)
            .collect()
    }

    fn revoke_credentials(&mut self, account: &str, kind: Option<CredentialKind>) -> Result<usize> {
        Ok(self
            .client
            .execute(
                "DELETE FROM credential WHERE account = $1 AND ($2::text IS NULL OR kind = $2)",
                &[&account, &kind.map(CredentialKind::as_str)],
            )
            .map_err(pg)? as usize)
    }

    fn revoke_credential(&mut self, account: &str, public_id: &str) -> Result<bool> {
        if public_id.len() != 16 || !public_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        Ok(self
            .client
            .execute(
                "DELETE FROM credential WHERE account = $1 AND left(secret_hash, 16) = $2",
                &[&account, &public_id],
            )
            .map_err(pg)?
            > 0)
    }

    fn delete_credential(&mut self, secret_hash: &str) -> Result<()> {
        self.client
            .execute(
                "DELETE FROM credential WHERE secret_hash = $1",
                &[&secret_hash],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn purge_credentials(&mut self, now_ms: i64) -> Result<usize> {
        Ok(self
            .client
            .execute(
                "DELETE FROM credential WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= $1",
                &[&now_ms],
            )
            .map_err(pg)? as usize)
    }
}

impl AuditStore for PostgresStore {
    fn audit(&mut self, e: &AuditEntry) -> Result<()> {
        check_who(&e.who)?;
        self.client
            .execute(
                "INSERT INTO audit (at_ms, who, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
                &[&e.at_ms, &e.who, &e.action, &e.target, &e.detail],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn audit_log(&mut self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = self
            .client
            .query(
                "SELECT at_ms, who, action, target, detail FROM audit ORDER BY id DESC LIMIT $1",
                &[&limit],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at_ms: r.get(0),
                who: r.get(1),
                action: r.get(2),
                target: r.get(3),
                detail: r.get(4),
            })
            .collect())
    }
}
