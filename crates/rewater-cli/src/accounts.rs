//! `rewater user …` and `rewater device …`: accounts of the web platform and the register of
//! data loggers, on the store; secrets are read from standard input (never from the command
//! line, where `ps` shows them) or generated and printed once.

use anyhow::{Context, Result};
use rewater_store::prelude::*;
use std::io::Write;

/// The first line of standard input, prompting on a terminal.
fn read_secret(what: &str) -> Result<String> {
    let mut line = String::new();
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("{what} (shown as typed; pipe it in to hide it): ");
    }
    std::io::stdin()
        .read_line(&mut line)
        .context("reading a secret from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn open(db: &str) -> Result<Box<dyn Store>> {
    rewater_store::open(db).with_context(|| format!("opening store {db}"))
}

/// `rewater user add|list|token`.
pub fn user_cmd(cmd: crate::UserCommand) -> Result<()> {
    use crate::UserCommand;
    match cmd {
        UserCommand::Add {
            name,
            role,
            district,
            db,
        } => {
            let password = read_secret(&format!("password for {name}"))?;
            rewater_api::auth::check_password(&password).map_err(crate::input_err)?;
            let hash =
                rewater_api::auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e))?;
            let mut store = open(&db)?;
            let account = rewater_store::Account {
                name: name.clone(),
                role: role.parse().map_err(crate::input_err)?,
                district,
                password_hash: hash,
                disabled: false,
                created_at_ms: rewater_api::auth::now_ms(),
            };
            rewater_store::check_account(&account).map_err(crate::input_err)?;
            let existed = rewater_api::accounts::save_account(store.as_mut(), "cli", &account)
                .map_err(crate::input_err)?;
            println!(
                "{} account {name} ({})",
                if existed { "updated" } else { "created" },
                account.role
            );
        }
        UserCommand::List { db } => {
            let mut store = open(&db)?;
            for a in store.accounts()? {
                println!(
                    "{:<24} {:<9} {}{}",
                    a.name,
                    a.role,
                    a.district.unwrap_or_default(),
                    if a.disabled { " (disabled)" } else { "" }
                );
            }
        }
        UserCommand::Token {
            name,
            label,
            days,
            db,
        } => {
            if !(1..=3650).contains(&days) {
                return Err(crate::input_err(format!(
                    "--days {days} is not within 1–3650"
                )));
            }
            let mut store = open(&db)?;
            let (cred, secret) = rewater_api::auth::new_token(&name, &label, days);
            if !rewater_api::accounts::save_token(store.as_mut(), "cli", &cred, days)? {
                return Err(crate::input_err(format!(
                    "no account '{name}' (`rewater user add`)"
                )));
            }
            println!("{secret}");
            eprintln!(
                "token {} for {name}, expires in {days} days (`rewater user revoke {name} {}`)",
                cred.public_id(),
                cred.public_id()
            );
        }
        UserCommand::Revoke {
            name,
            public_id,
            db,
        } => {
            let mut store = open(&db)?;
            if !store.revoke_credential(&name, &public_id)? {
                return Err(crate::input_err(format!(
                    "account '{name}' has no session or token '{public_id}'"
                )));
            }
            rewater_api::audit(store.as_mut(), "cli", "token.revoke", &name, &public_id);
            println!("revoked {public_id} of {name}");
        }
    }
    Ok(())
}

/// Device commands.
#[derive(clap::Subcommand)]
pub enum DeviceCommand {
    /// Register a data logger (or change its site and options). The password is the first
    /// line of standard input, or generated and printed once with --generate.
    Add {
        /// The logger's MN (1–24 letters or digits).
        mn: String,
        /// The monitoring site it measures.
        #[arg(long)]
        site: String,
        /// Make a random password and print it once.
        #[arg(long)]
        generate: bool,
        /// Source addresses it may send from (IPs or CIDR networks); any if none.
        #[arg(long, value_delimiter = ',')]
        allow: Vec<String>,
        /// Accept field-device deviations (LF-only tails, long segments, missing QN).
        #[arg(long)]
        lenient: bool,
        /// Accept byte-swapped CRC-16/MODBUS from it.
        #[arg(long)]
        modbus_crc: bool,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// List data loggers (never their passwords).
    List {
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// Change a logger's password (standard input, or --generate).
    Passwd {
        mn: String,
        #[arg(long)]
        generate: bool,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// Refuse a logger's frames from now on (`enable` lets it in again).
    Disable {
        mn: String,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
    /// Accept a disabled logger's frames again.
    Enable {
        mn: String,
        #[arg(long, default_value = "rewater.sqlite")]
        db: String,
    },
}

/// A device password from stdin (at least 6 characters, none of HJ 212's separators) or a
/// generated one, which is printed.
fn device_password(mn: &str, generate: bool) -> Result<String> {
    if generate {
        let pw = rewater_store::random_device_password()?;
        println!("password for {mn}: {pw} (shown once)");
        return Ok(pw);
    }
    let pw = read_secret(&format!("password for data logger {mn}"))?;
    if pw.len() < 6 || pw.len() > 64 || pw.contains([';', '=', '&', ',']) {
        return Err(crate::input_err(
            "a data-logger password needs 6–64 characters and no ; = & , (HJ 212 separators)",
        ));
    }
    Ok(pw)
}

fn existing_device(store: &mut dyn Store, mn: &str) -> Result<rewater_store::Device> {
    store
        .device(mn)?
        .ok_or_else(|| crate::input_err(format!("no data logger '{mn}' (`rewater device list`)")))
}

fn put_device(
    store: &mut dyn Store,
    d: &rewater_store::Device,
    action: &str,
    detail: &str,
) -> Result<()> {
    rewater_store::check_device(d).map_err(crate::input_err)?;
    store.put_device(d).map_err(crate::input_err)?;
    rewater_api::audit(store, "cli", action, &d.mn, detail);
    Ok(())
}

/// `rewater device add|list|passwd|disable|enable`.
pub fn device_cmd(cmd: DeviceCommand) -> Result<()> {
    match cmd {
        DeviceCommand::Add {
            mn,
            site,
            generate,
            allow,
            lenient,
            modbus_crc,
            db,
        } => {
            let mut store = open(&db)?;
            if !store.sites()?.iter().any(|s| s.id == site) {
                return Err(crate::input_err(format!("no site '{site}'")));
            }
            let d = rewater_store::Device {
                password_hash: rewater_store::hash_device_password(&device_password(
                    &mn, generate,
                )?),
                mn,
                site_id: site,
                lenient,
                accept_modbus_crc: modbus_crc,
                allowed_peers: allow.into_iter().filter(|a| !a.trim().is_empty()).collect(),
                disabled: false,
            };
            put_device(
                store.as_mut(),
                &d,
                "device.put",
                &format!("site {}", d.site_id),
            )?;
            println!("registered data logger {} at site {}", d.mn, d.site_id);
        }
        DeviceCommand::List { db } => {
            let mut store = open(&db)?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<24} {:<24} {:<8} allowed sources",
                "mn", "site", "state"
            )?;
            for d in store.devices()? {
                let state = if d.disabled { "disabled" } else { "enabled" };
                let allowed = if d.allowed_peers.is_empty() {
                    "any".to_string()
                } else {
                    d.allowed_peers.join(",")
                };
                writeln!(out, "{:<24} {:<24} {:<8} {allowed}", d.mn, d.site_id, state)?;
            }
        }
        DeviceCommand::Passwd { mn, generate, db } => {
            let mut store = open(&db)?;
            let mut d = existing_device(store.as_mut(), &mn)?;
            d.password_hash = rewater_store::hash_device_password(&device_password(&mn, generate)?);
            put_device(store.as_mut(), &d, "device.passwd", "")?;
            println!("changed the password of data logger {mn}");
        }
        DeviceCommand::Disable { mn, db } => set_disabled(&db, &mn, true)?,
        DeviceCommand::Enable { mn, db } => set_disabled(&db, &mn, false)?,
    }
    Ok(())
}

fn set_disabled(db: &str, mn: &str, disabled: bool) -> Result<()> {
    let mut store = open(db)?;
    let mut d = existing_device(store.as_mut(), mn)?;
    d.disabled = disabled;
    let action = if disabled {
        "device.disable"
    } else {
        "device.enable"
    };
    put_device(store.as_mut(), &d, action, "")?;
    println!(
        "data logger {mn} {}",
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(())
}
