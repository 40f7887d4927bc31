//! Area classes (功能分区) by district and township, as data: bundled from `money/areas.toml`,
//! replaced by a user file of the same shape (a district given there replaces the bundled one).

use crate::{Confidence, InputError, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const BUNDLED_AREAS: &str = include_str!("../../../money/areas.toml");

/// The largest areas or rules file read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// The area classes the rules name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaClass {
    /// 中心城区 (and 回龙观天通苑地区, treated with it).
    Central,
    /// 城市副中心规划范围.
    Subcentre,
    /// 城市副中心拓展区 (the rest of Tongzhou).
    SubcentreExpansion,
    /// 平原区.
    Plain,
    /// 生态涵养区.
    Ecological,
}

impl AreaClass {
    pub const ALL: [AreaClass; 5] = [
        AreaClass::Central,
        AreaClass::Subcentre,
        AreaClass::SubcentreExpansion,
        AreaClass::Plain,
        AreaClass::Ecological,
    ];
    pub fn id(self) -> &'static str {
        match self {
            AreaClass::Central => "central",
            AreaClass::Subcentre => "subcentre",
            AreaClass::SubcentreExpansion => "subcentre_expansion",
            AreaClass::Plain => "plain",
            AreaClass::Ecological => "ecological",
        }
    }
    pub fn name(self) -> Text {
        match self {
            AreaClass::Central => Text::new("中心城区", "central city"),
            AreaClass::Subcentre => Text::new("城市副中心", "city sub-centre"),
            AreaClass::SubcentreExpansion => Text::new("副中心拓展区", "sub-centre expansion area"),
            AreaClass::Plain => Text::new("平原区", "plain area"),
            AreaClass::Ecological => Text::new("生态涵养区", "ecological conservation area"),
        }
    }
    /// Parses an id or the Chinese name.
    pub fn parse(s: &str) -> Option<AreaClass> {
        let t = s.trim();
        AreaClass::ALL
            .into_iter()
            .find(|c| c.id() == t.to_ascii_lowercase() || c.name().zh == t)
    }
}

/// Urban (城镇地区) or rural (农村地区).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Setting {
    Urban,
    Rural,
}

impl Setting {
    pub fn parse(s: &str) -> Option<Setting> {
        match s.trim().to_ascii_lowercase().as_str() {
            "urban" | "城镇" | "城镇地区" | "城区" => Some(Setting::Urban),
            "rural" | "农村" | "农村地区" => Some(Setting::Rural),
            _ => None,
        }
    }
    pub fn id(self) -> &'static str {
        match self {
            Setting::Urban => "urban",
            Setting::Rural => "rural",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Township {
    pub name: String,
    pub class: AreaClass,
    #[serde(default)]
    pub tags: Vec<String>,
    pub confidence: Confidence,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct District {
    pub id: String,
    pub name: Text,
    pub class: AreaClass,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub township: Vec<Township>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AreasFile {
    #[serde(default)]
    version: String,
    #[serde(default)]
    district: Vec<District>,
}

/// The districts with their classes and townships.
#[derive(Debug, Clone, Serialize)]
pub struct Areas {
    pub version: String,
    pub districts: BTreeMap<String, District>,
}

/// Where a project, plant or station is, resolved against [`Areas`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    /// District id (`changping`).
    pub district: String,
    pub township: String,
    pub class: AreaClass,
    pub tags: Vec<String>,
    pub mountain: bool,
    /// The confidence of the class (a township's listed class may be unverified; a class the
    /// input gives is the input's own and verified).
    pub confidence: Confidence,
}

impl Areas {
    /// The bundled areas.
    pub fn bundled() -> Areas {
        // The bundled file is checked by the tests; a failure here is a build defect.
        Areas::parse(BUNDLED_AREAS, "money/areas.toml").unwrap_or_else(|e| {
            tracing::error!(error = %e, "bundled areas");
            Areas {
                version: String::new(),
                districts: BTreeMap::new(),
            }
        })
    }

    /// Parses an areas file.
    pub fn parse(text: &str, file: &str) -> Result<Areas, InputError> {
        let f: AreasFile =
            toml::from_str(text).map_err(|e| InputError::file(file, e.to_string()))?;
        let mut districts = BTreeMap::new();
        for d in f.district {
            if d.id.is_empty() || d.id.len() > 64 {
                return Err(InputError::file(
                    file,
                    "a district id must be 1–64 characters",
                ));
            }
            if districts.insert(d.id.clone(), d.clone()).is_some() {
                return Err(InputError::file(file, format!("district '{}' twice", d.id)));
            }
        }
        Ok(Areas {
            version: f.version,
            districts,
        })
    }

    /// The bundled areas with the districts of a user file replacing or added to them.
    pub fn with_file(mut self, path: &std::path::Path) -> Result<Areas, InputError> {
        let file = path.display().to_string();
        let text = crate::rules::read_text(path)?;
        let other = Areas::parse(&text, &file)?;
        self.districts.extend(other.districts);
        if !other.version.is_empty() {
            self.version = other.version;
        }
        Ok(self)
    }

    /// The district of an id, a Chinese name or an alias.
    pub fn district(&self, s: &str) -> Option<&District> {
        let t = s.trim();
        self.districts.get(t).or_else(|| {
            self.districts.values().find(|d| {
                d.name.zh == t
                    || d.name.en.eq_ignore_ascii_case(t)
                    || d.aliases.iter().any(|a| a == t)
            })
        })
    }

    /// The name of a district id in `lang` (the id itself when unknown).
    pub fn name(&self, id: &str, lang: crate::Lang) -> String {
        self.districts
            .get(id)
            .map(|d| d.name.get(lang).to_string())
            .unwrap_or_else(|| id.to_string())
    }

    /// Resolves a place: the class given wins; else the township's listed class; else the
    /// district's. `mountain` given wins over the township's `mountain` tag.
    pub fn locate(
        &self,
        district: &str,
        township: &str,
        class: Option<AreaClass>,
        mountain: Option<bool>,
    ) -> Result<Location, String> {
        let d = self
            .district(district)
            .ok_or_else(|| format!("unknown district '{district}' (see money/areas.toml)"))?;
        let t = township.trim();
        let town = d.township.iter().find(|x| !t.is_empty() && x.name == t);
        let tags = town.map(|x| x.tags.clone()).unwrap_or_default();
        let (class, confidence) = match (class, town) {
            (Some(c), _) => (c, Confidence::Verified),
            (None, Some(x)) => (x.class, x.confidence),
            (None, None) => (d.class, Confidence::Inferred),
        };
        Ok(Location {
            district: d.id.clone(),
            township: t.to_string(),
            class,
            mountain: mountain.unwrap_or_else(|| tags.iter().any(|x| x == "mountain")),
            tags,
            confidence,
        })
    }
}
