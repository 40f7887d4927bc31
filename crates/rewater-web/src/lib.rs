//! The web platform's pages: one HTML shell, the application script with its Chinese and
//! English labels, the style sheet and Apache ECharts (installed by `npm ci` into this
//! build's `OUT_DIR` at build time, see `build.rs`), all embedded so that `rewater serve` is a
//! single binary. Only `rewater-api`'s `web` feature pulls this crate (and Node.js) in.

macro_rules! web_file {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path))
    };
}

type Asset = (&'static str, &'static [u8], &'static str);

/// The files served, by URL path (without the leading slash): (path, bytes, MIME type).
const ASSETS: &[Asset] = &[
    (
        "index.html",
        web_file!("src/index.html"),
        "text/html; charset=utf-8",
    ),
    (
        "app.js",
        web_file!("src/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "i18n.js",
        web_file!("src/i18n.js"),
        "text/javascript; charset=utf-8",
    ),
    // Scorecard page (issue 15 part A).
    (
        "pages/scorecard.js",
        web_file!("src/pages/scorecard.js"),
        "text/javascript; charset=utf-8",
    ),
    // issue 16: the river-outfall ledger pages.
    (
        "pages/outfalls.js",
        web_file!("src/pages/outfalls.js"),
        "text/javascript; charset=utf-8",
    ),
    // issue 17 (h-money): the money ledgers.
    (
        "pages/money.js",
        web_file!("src/pages/money.js"),
        "text/javascript; charset=utf-8",
    ),
    // issue 18 item 6 (h-optweb): planning optimisation.
    (
        "pages/optimise.js",
        web_file!("src/pages/optimise.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "style.css",
        web_file!("src/style.css"),
        "text/css; charset=utf-8",
    ),
    // issue 15 part B (h-tasks): the task register and report pages.
    (
        "pages/tasks.js",
        web_file!("src/pages/tasks.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "pages/reports.js",
        web_file!("src/pages/reports.js"),
        "text/javascript; charset=utf-8",
    ),
    // issue 13 (h-web): names by language, overview, site, reports, big screen, public page.
    (
        "names.js",
        web_file!("src/names.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "pages/overview.js",
        web_file!("src/pages/overview.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "pages/site.js",
        web_file!("src/pages/site.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "pages/exports.js",
        web_file!("src/pages/exports.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "pages/screen.js",
        web_file!("src/pages/screen.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "public",
        web_file!("src/public.html"),
        "text/html; charset=utf-8",
    ),
    (
        "public.js",
        web_file!("src/public.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "vendor/echarts.min.js",
        include_bytes!(concat!(
            env!("REWATER_WEB_NODE_MODULES"),
            "/echarts/dist/echarts.min.js"
        )),
        "text/javascript; charset=utf-8",
    ),
];

/// The `node_modules` directory the build installed (ECharts, and playwright-core for the
/// browser test): under this build's `OUT_DIR`, never in the source tree.
pub fn node_modules_dir() -> &'static str {
    env!("REWATER_WEB_NODE_MODULES")
}

/// A page asset by path; unknown paths that look like pages get the HTML shell, so that
/// deep links (`/site/plant-north-outlet`) load the application.
pub fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    let path = path.trim_start_matches('/');
    if let Some((_, bytes, mime)) = ASSETS.iter().find(|(p, _, _)| *p == path) {
        return Some((bytes, mime));
    }
    let is_page = !path.starts_with("api/") && !path.contains('.');
    is_page.then_some((ASSETS[0].1, ASSETS[0].2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_and_deep_links() {
        let (html, mime) = asset("/").unwrap();
        assert!(mime.starts_with("text/html"));
        assert!(std::str::from_utf8(html).unwrap().contains("app.js"));
        assert_eq!(asset("site/x").unwrap().0, html);
        let (js, _) = asset("vendor/echarts.min.js").unwrap();
        assert!(js.len() > 500_000, "ECharts from npm");
        assert!(asset("missing.png").is_none());
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("api/nothing").is_none());
        // Installed under the build's output, not next to the sources.
        let nm = std::path::Path::new(node_modules_dir());
        assert!(
            nm.join("playwright-core/package.json").exists(),
            "{}",
            nm.display()
        );
        assert!(!nm.starts_with(env!("CARGO_MANIFEST_DIR")));
    }
}
