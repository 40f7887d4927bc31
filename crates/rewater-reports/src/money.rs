//! The money sections of the reports (issue 17): the district construction budget table
//! (rewater-money's funding ledger by the projects' district and year) and the compensation
//! settlement (pays, receives, net by district, with a chart of the net), and the
//! reclaimed-water unit cost by plant and by supply route of the model's run. A section computed
//! under an unverified rule says so in its title and in a note. The plan-progress report gets
//! every district; a district report gets its own rows.

use crate::chart::{bars, Series};
use crate::html::{Block, Doc, Section};
use crate::labels::t;
use crate::{Lang, ReportError};
use rewater_money::table::{Cell, Table};

fn lang_of(lang: Lang) -> rewater_money::Lang {
    match lang {
        Lang::Zh => rewater_money::Lang::Zh,
        Lang::En => rewater_money::Lang::En,
    }
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Number(x) => {
            let r = (x * 100.0).round() / 100.0;
            if r.abs() >= 10_000.0 {
                let whole = crate::fmt::m3(r.trunc());
                let whole = if r < 0.0 && !whole.starts_with('-') {
                    format!("-{whole}")
                } else {
                    whole
                };
                let cents = ((r.abs().fract() * 100.0).round()) as i64;
                if cents == 0 {
                    whole
                } else {
                    format!("{whole}.{cents:02}")
                }
            } else if r.fract() == 0.0 {
                format!("{r:.0}")
            } else {
                format!("{r}")
            }
        }
        Cell::Empty => String::new(),
    }
}

fn table_blocks(tb: &Table, lang: Lang) -> Vec<Block> {
    let l = lang_of(lang);
    let mut blocks = vec![Block::Table(
        tb.columns.iter().map(|c| c.get(l).to_string()).collect(),
        tb.rows
            .iter()
            .map(|r| r.iter().map(cell).collect())
            .collect(),
    )];
    blocks.extend(tb.notes.iter().map(|n| Block::Note(n.get(l).to_string())));
    if tb.unverified {
        blocks.push(Block::Note(t("money_unverified", lang)));
    }
    blocks
}

fn title(key: &str, unverified: bool, lang: Lang) -> String {
    let s = t(key, lang);
    if unverified {
        format!("{s} [UNVERIFIED]")
    } else {
        s
    }
}

/// The district budget section from the funding ledger's `funding-district-budget` table.
pub fn budget_section(budget: &Table, lang: Lang) -> Section {
    Section {
        title: title("s_money_budget", budget.unverified, lang),
        blocks: table_blocks(budget, lang),
    }
}

/// The settlement section from the compensation ledger's `compensation-settlement` table
/// (columns: district, pays, receives, net, confidence), with a bar chart of what each
/// district pays and receives.
pub fn settlement_section(settlement: &Table, lang: Lang) -> Section {
    let mut blocks = table_blocks(settlement, lang);
    let labels: Vec<String> = settlement
        .rows
        .iter()
        .map(|r| r.first().map(cell).unwrap_or_default())
        .collect();
    let column = |i: usize| -> Series {
        Series {
            name: settlement
                .columns
                .get(i)
                .map(|c| c.get(lang_of(lang)).to_string())
                .unwrap_or_default(),
            values: settlement
                .rows
                .iter()
                .map(|r| match r.get(i) {
                    Some(Cell::Number(x)) => Some(*x),
                    _ => None,
                })
                .collect(),
        }
    };
    if !labels.is_empty() {
        blocks.insert(
            1,
            Block::Chart(bars(
                &t("chart_money_net", lang),
                "",
                &labels,
                &[column(1), column(2)],
            )),
        );
    }
    Section {
        title: title("s_money_compensation", settlement.unverified, lang),
        blocks,
    }
}

/// The unit-cost section from the cost ledger's `cost-plants` and `cost-routes` tables
/// (each under its own title, as a paragraph).
pub fn cost_section(tables: &[Table], lang: Lang) -> Section {
    let l = lang_of(lang);
    let mut blocks = Vec::new();
    for tb in tables {
        blocks.push(Block::Para(tb.heading(l)));
        blocks.extend(table_blocks(tb, lang));
    }
    Section {
        title: title("s_money_cost", tables.iter().any(|t| t.unverified), lang),
        blocks,
    }
}

/// The money inputs of a report, already computed (and, for a district report, limited to
/// the district by the caller).
#[derive(Debug, Clone, Default)]
pub struct MoneyTables {
    /// `funding-district-budget`.
    pub budget: Option<Table>,
    /// `compensation-settlement`.
    pub settlement: Option<Table>,
    /// `cost-plants` and `cost-routes` (empty: no cost section).
    pub cost: Vec<Table>,
}

impl MoneyTables {
    /// Whether there is anything to add.
    pub fn is_empty(&self) -> bool {
        self.budget.is_none() && self.settlement.is_none() && self.cost.is_empty()
    }
}

/// Appends the money sections to a document.
pub fn append(doc: &mut Doc, money: &MoneyTables) {
    if let Some(b) = &money.budget {
        doc.sections.push(budget_section(b, doc.lang));
    }
    if let Some(s) = &money.settlement {
        doc.sections.push(settlement_section(s, doc.lang));
    }
    if !money.cost.is_empty() {
        doc.sections.push(cost_section(&money.cost, doc.lang));
    }
}

/// [`crate::generate::generate`] with the money sections appended.
pub fn generate_with_money(
    region: &rewater_model::Region,
    model_file: &str,
    standards: &rewater_standards::Standards,
    req: crate::generate::Request,
    money: &MoneyTables,
    dir: &std::path::Path,
) -> Result<crate::Written, ReportError> {
    let browser = req.browser.clone();
    let (mut doc, stem) = crate::generate::document(region, model_file, standards, req)?;
    append(&mut doc, money);
    crate::write(&doc, dir, &stem, browser.as_deref())
}
