//! The device register (数采仪登记): data loggers with their own passwords (stored as hashes;
//! HJ 212 sends PW in clear with every frame, the gateway compares in constant time), the
//! site they report for, allowed source addresses and whether they are disabled. Changes
//! are for administrators and audited; a password is returned only when the server
//! generated it, once.

use crate::auth::authenticate;
use crate::error::{bad, not_found, ApiError, ApiResult, E400, E401, E403, E404};
use crate::extract::ApiJson;
use crate::sites::{auth_read, find_site, visible_sites};
use crate::{audit, with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_store::Device;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A device as the API shows it: never its password or hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceView {
    /// HJ 212 MN.
    pub mn: String,
    pub site_id: String,
    /// Accept LF-only tails, long segments, missing QN.
    pub lenient: bool,
    /// Accept byte-swapped CRC-16/MODBUS.
    pub accept_modbus_crc: bool,
    /// Source addresses (IPs or CIDRs) frames may come from; empty: any.
    pub allowed_peers: Vec<String>,
    pub disabled: bool,
}

impl From<&Device> for DeviceView {
    fn from(d: &Device) -> DeviceView {
        DeviceView {
            mn: d.mn.clone(),
            site_id: d.site_id.clone(),
            lenient: d.lenient,
            accept_modbus_crc: d.accept_modbus_crc,
            allowed_peers: d.allowed_peers.clone(),
            disabled: d.disabled,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DevicesBody {
    pub devices: Vec<DeviceView>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceBody {
    pub device: DeviceView,
    /// The password the server generated: shown only in this answer. Absent when the
    /// caller chose the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Data loggers of the sites the caller sees (passwords are never returned).
#[utoipa::path(get, path = "/api/devices", tag = "devices",
    responses((status = 200, description = "devices", body = DevicesBody), E401))]
pub async fn devices(State(st): State<ApiState>, headers: HeaderMap) -> ApiResult<DevicesBody> {
    let p = auth_read(&st, &headers).await?;
    let (list, sites) = with_store(&st, |s| Ok((s.devices()?, s.sites()?))).await?;
    let seen = visible_sites(&p, &sites);
    let devices = list
        .iter()
        .filter(|d| seen.contains(&d.site_id))
        .map(DeviceView::from)
        .collect();
    Ok(Json(DevicesBody { devices }))
}

/// A device password: 6–64 printable ASCII characters without the frame's separators, and
/// not the well-known factory default.
fn check_device_password(pw: &str) -> Result<(), ApiError> {
    let ok_chars = pw
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '=' | '&'));
    if !(6..=64).contains(&pw.len()) || !ok_chars {
        return Err(bad(
            "password: 6–64 printable ASCII characters, without ; , = &",
        ));
    }
    if pw == "123456" {
        return Err(bad(
            "password: 123456 is the factory default; choose another",
        ));
    }
    Ok(())
}

/// Chosen password, or a generated one to show once.
fn password_or_generated(pw: Option<String>) -> Result<(String, Option<String>), ApiError> {
    match pw {
        Some(p) => {
            check_device_password(&p)?;
            Ok((p, None))
        }
        None => {
            let g = rewater_store::random_device_password()?;
            Ok((g.clone(), Some(g)))
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    mn: String,
    site_id: String,
    /// Omit to have the server generate one (returned once).
    password: Option<String>,
    #[serde(default)]
    lenient: bool,
    #[serde(default)]
    accept_modbus_crc: bool,
    #[serde(default)]
    allowed_peers: Vec<String>,
}

/// Register a device (administrators only); audited.
#[utoipa::path(post, path = "/api/devices", tag = "devices", request_body = NewDevice,
    responses((status = 200, description = "the device; a generated password once", body = DeviceBody), E400, E401, E403, E404))]
pub async fn register_device(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(d): ApiJson<NewDevice>,
) -> ApiResult<DeviceBody> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let (password, shown) = password_or_generated(d.password)?;
    let device = Device {
        mn: d.mn,
        password_hash: rewater_store::hash_device_password(&password),
        site_id: d.site_id,
        lenient: d.lenient,
        accept_modbus_crc: d.accept_modbus_crc,
        allowed_peers: d.allowed_peers,
        disabled: false,
    };
    // MN, source rules: refused with the field named before anything is stored.
    rewater_store::check_device(&device)?;
    let device = with_store(&st, move |s| {
        find_site(s, &device.site_id)?;
        if s.device(&device.mn)?.is_some() {
            return Err(bad(format!(
                "mn: device {} is already registered (change its password or disable it)",
                device.mn
            )));
        }
        s.put_device(&device)?;
        let detail = format!("site {}", device.site_id);
        audit(s, &p.name, "device.create", &device.mn, &detail);
        Ok(device)
    })
    .await?;
    Ok(Json(DeviceBody {
        device: DeviceView::from(&device),
        password: shown,
    }))
}

/// Finds a device, changes it, stores it and audits the change.
async fn change_device(
    st: &ApiState,
    who: String,
    mn: String,
    action: &'static str,
    change: impl FnOnce(&mut Device) + Send + 'static,
) -> Result<Device, ApiError> {
    with_store(st, move |s| {
        let mut d = s
            .device(&mn)?
            .ok_or_else(|| not_found(format!("no device '{mn}'")))?;
        change(&mut d);
        s.put_device(&d)?;
        audit(s, &who, action, &d.mn, "");
        Ok(d)
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevicePassword {
    /// Omit to have the server generate one (returned once).
    password: Option<String>,
}

/// Change a device's password (administrators only); audited.
#[utoipa::path(post, path = "/api/devices/{mn}/password", tag = "devices", request_body = DevicePassword,
    params(("mn" = String, Path, description = "the device's MN")),
    responses((status = 200, description = "changed; a generated password once", body = DeviceBody), E400, E401, E403, E404))]
pub async fn device_password(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(mn): Path<String>,
    ApiJson(b): ApiJson<DevicePassword>,
) -> ApiResult<DeviceBody> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let (password, shown) = password_or_generated(b.password)?;
    let hash = rewater_store::hash_device_password(&password);
    let d = change_device(&st, p.name, mn, "device.password", move |d| {
        d.password_hash = hash;
    })
    .await?;
    Ok(Json(DeviceBody {
        device: DeviceView::from(&d),
        password: shown,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceDisable {
    /// true: refuse its frames; false: accept them again.
    disabled: bool,
}

/// Disable or enable a device (administrators only); audited.
#[utoipa::path(post, path = "/api/devices/{mn}/disable", tag = "devices", request_body = DeviceDisable,
    params(("mn" = String, Path, description = "the device's MN")),
    responses((status = 200, description = "the device", body = DeviceBody), E400, E401, E403, E404))]
pub async fn disable_device(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(mn): Path<String>,
    ApiJson(b): ApiJson<DeviceDisable>,
) -> ApiResult<DeviceBody> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let action = if b.disabled {
        "device.disable"
    } else {
        "device.enable"
    };
    let d = change_device(&st, p.name, mn, action, move |d| d.disabled = b.disabled).await?;
    Ok(Json(DeviceBody {
        device: DeviceView::from(&d),
        password: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_passwords() {
        assert!(check_device_password("123456").is_err());
        assert!(check_device_password("pw;1234").is_err());
        assert!(check_device_password("12345").is_err());
        assert!(check_device_password("s3cret-pw").is_ok());
        let (pw, shown) = password_or_generated(None).unwrap();
        assert_eq!(shown.as_deref(), Some(pw.as_str()));
        assert!(check_device_password(&pw).is_ok());
        assert_eq!(
            password_or_generated(Some("s3cret-pw".into())).unwrap().1,
            None
        );
    }
}
