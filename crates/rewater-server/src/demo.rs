//! The demo sites of the Beijing-style example region (illustrative, not real stations) and the
//! registration of demo and simulated data loggers. There is no default device password: each
//! registration makes a random one, reported once to whoever started the service.

use crate::{Result, ServerError};
use rewater_store::prelude::*;
use rewater_store::{Device, Site};

/// The Beijing-style example model, for the demo sites' network.
pub const DEMO_MODEL: &str = include_str!("../../../examples/beijing-district/model.toml");
/// Its daily series, written beside it when the model is written out.
pub const DEMO_DAILY_CSV: &str =
    include_str!("../../../examples/beijing-district/data/daily_factors.csv");

/// The bundled example models (name, model file text); only Beijing has series files.
pub const BUNDLED_MODELS: [(&str, &str); 3] = [
    ("beijing-district", DEMO_MODEL),
    (
        "lianyungang-city",
        include_str!("../../../examples/lianyungang-city/model.toml"),
    ),
    (
        "wanzhou-river-city",
        include_str!("../../../examples/wanzhou-river-city/model.toml"),
    ),
];

/// issue 18 item 6 (h-optweb): the bundled planning-optimisation studies, written beside
/// their models as `optimise.toml` (the web page's studies).
pub const BUNDLED_STUDIES: [(&str, &str); 2] = [
    (
        "beijing-district",
        include_str!("../../../examples/beijing-district/optimise.toml"),
    ),
    (
        "lianyungang-city",
        include_str!("../../../examples/lianyungang-city/optimise.toml"),
    ),
];

/// Data loggers registered at a start, all with one random password (shown once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub mns: Vec<String>,
    pub password: String,
}

/// Writes the demo model and its series to `dir` (a run reads real files); returns the
/// model file's path.
pub fn write_demo(dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir.join("data"))?;
    let model = dir.join("model.toml");
    std::fs::write(&model, DEMO_MODEL)?;
    std::fs::write(dir.join("data/daily_factors.csv"), DEMO_DAILY_CSV)?;
    Ok(model)
}

struct DemoSite {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    standard: &'static str,
    district: &'static str,
    lon_lat: [f64; 2],
    node: &'static str,
    mn: &'static str,
}

const DEMO_SITES: [DemoSite; 6] = [
    DemoSite {
        id: "plant-north-outlet",
        name: "North reclamation plant outlet",
        kind: "plant_outlet",
        standard: "DB11/890-2012:new_B",
        district: "north",
        lon_lat: [116.35, 40.05],
        node: "plant-north",
        mn: "RWDEMO0000000001",
    },
    DemoSite {
        id: "plant-south-outlet",
        name: "South plant outlet",
        kind: "plant_outlet",
        standard: "GB18918-2002:1A",
        district: "south",
        lon_lat: [116.40, 39.98],
        node: "plant-south",
        mn: "RWDEMO0000000002",
    },
    DemoSite {
        id: "wetland-outlet",
        name: "Polishing wetland outlet",
        kind: "wetland_outlet",
        standard: "GB3838-2002:IV",
        district: "north",
        lon_lat: [116.38, 40.08],
        node: "wetland",
        mn: "RWDEMO0000000003",
    },
    DemoSite {
        id: "pond",
        name: "Storage lake",
        kind: "pond",
        standard: "GB/T18921-2019:ornamental_lake",
        district: "north",
        lon_lat: [116.42, 40.10],
        node: "pond",
        mn: "RWDEMO0000000004",
    },
    DemoSite {
        id: "greening-supply",
        name: "Greening supply point",
        kind: "user_supply",
        standard: "GB/T18920-2020:urban_greening",
        district: "north",
        lon_lat: [116.37, 40.06],
        node: "greening",
        mn: "RWDEMO0000000005",
    },
    DemoSite {
        id: "river-section",
        name: "River section downstream",
        kind: "river_section",
        standard: "GB3838-2002:IV",
        district: "south",
        lon_lat: [116.45, 39.96],
        node: "river",
        mn: "RWDEMO0000000006",
    },
];

/// Chinese names of the demo sites, and whether each is a public supply point (issue 13); the
/// English names are the sites' own.
const DEMO_NAMES_ZH: [(&str, &str, bool); 6] = [
    ("plant-north-outlet", "北部再生水厂出水口", false),
    ("plant-south-outlet", "南部污水厂出水口", false),
    ("wetland-outlet", "潜流湿地出水口", false),
    ("pond", "调蓄湖", true),
    ("greening-supply", "绿化供水点", true),
    ("river-section", "下游河道断面", false),
];

/// The demo districts: code, Chinese and English names.
const DEMO_DISTRICTS: [(&str, &str, &str); 2] = [
    ("north", "北区", "North district"),
    ("south", "南区", "South district"),
];

/// Labels of the demo sites and districts in both languages.
pub fn demo_labels() -> Vec<rewater_store::Label> {
    let sites = DEMO_NAMES_ZH.iter().filter_map(|(id, zh, public)| {
        let d = DEMO_SITES.iter().find(|d| d.id == *id)?;
        Some(rewater_store::Label {
            kind: "site".into(),
            id: (*id).into(),
            name_zh: (*zh).into(),
            name_en: d.name.into(),
            public: *public,
        })
    });
    let districts = DEMO_DISTRICTS
        .iter()
        .map(|(id, zh, en)| rewater_store::Label {
            kind: "district".into(),
            id: (*id).into(),
            name_zh: (*zh).into(),
            name_en: (*en).into(),
            public: false,
        });
    sites.chain(districts).collect()
}

/// The demo sites and the MNs of their data loggers.
pub fn demo_sites() -> Vec<(Site, String)> {
    DEMO_SITES
        .iter()
        .map(|d| {
            (
                Site {
                    id: d.id.into(),
                    name: d.name.into(),
                    kind: d.kind.into(),
                    standard: Some(d.standard.into()),
                    district: d.district.into(),
                    location: Some(d.lon_lat),
                    model_node: Some(d.node.into()),
                },
                d.mn.to_string(),
            )
        })
        .collect()
}

/// MN of simulated device `i` (registered by `serve --sim-devices`).
pub fn sim_mn(i: usize) -> String {
    format!("RWSIM{i:011}")
}

fn device(mn: String, site: &str, password_hash: &str) -> Device {
    Device {
        mn,
        password_hash: password_hash.to_string(),
        site_id: site.into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: Vec::new(),
        disabled: false,
    }
}

/// Opens the store; registers the demo sites and data loggers (`demo`) and `sim_devices`
/// simulated ones, all with one new random password.
pub fn prepare_store(
    db: &str,
    demo: bool,
    sim_devices: usize,
) -> Result<(Box<dyn Store>, Option<Registered>)> {
    let err = |source| ServerError::Store {
        location: db.to_string(),
        source,
    };
    let mut store = rewater_store::open(db).map_err(err)?;
    if !demo && sim_devices == 0 {
        return Ok((store, None));
    }
    let password = rewater_store::random_device_password().map_err(err)?;
    let hash = rewater_store::hash_device_password(&password);
    let mut devices = Vec::new();
    if demo {
        for (site, mn) in demo_sites() {
            store.put_site(&site).map_err(err)?;
            devices.push(device(mn, &site.id, &hash));
        }
        // Names an administrator already gave are kept.
        let have = store.labels().map_err(err)?;
        for l in demo_labels() {
            if !have.iter().any(|h| h.kind == l.kind && h.id == l.id) {
                store.put_label(&l, "demo", 0).map_err(err)?;
            }
        }
    }
    if sim_devices > 0 {
        store
            .put_site(&Site {
                id: "sim".into(),
                name: "Simulated devices".into(),
                kind: "plant_outlet".into(),
                standard: Some("GB18918-2002:1A".into()),
                district: "sim".into(),
                location: None,
                model_node: None,
            })
            .map_err(err)?;
        devices.extend((0..sim_devices).map(|i| device(sim_mn(i), "sim", &hash)));
    }
    store.put_devices(&devices).map_err(err)?;
    let registered = Registered {
        mns: devices.into_iter().map(|d| d.mn).collect(),
        password,
    };
    Ok((store, Some(registered)))
}
