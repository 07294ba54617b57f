//! The browser assets, embedded in the binary: the demo region page at `/`, the chat widget at
//! `/widget.js`, and the professional console at `/console` (+ its script and styles).

use warp::{Filter, Reply};

const INDEX_HTML: &str = include_str!("../../assets/index.html");
const WIDGET_JS: &str = include_str!("../../assets/widget.js");
const CONSOLE_HTML: &str = include_str!("../../assets/console.html");
const CONSOLE_JS: &str = include_str!("../../assets/console.js");
const CONSOLE_CSS: &str = include_str!("../../assets/console.css");

fn asset(body: &'static str, content_type: &'static str) -> warp::reply::Response {
    let r = warp::reply::with_header(body, "content-type", content_type);
    let r = warp::reply::with_header(r, "cache-control", "no-cache");
    warp::reply::with_header(r, "x-content-type-options", "nosniff").into_response()
}

pub fn routes() -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone
{
    let get = warp::get();
    let index = warp::path::end()
        .and(get)
        .map(|| asset(INDEX_HTML, "text/html; charset=utf-8"));
    let widget = warp::path!("widget.js").and(get).map(|| {
        // The widget is embedded on other sites: it must be loadable cross-origin.
        let r = asset(WIDGET_JS, "text/javascript; charset=utf-8");
        warp::reply::with_header(r, "access-control-allow-origin", "*").into_response()
    });
    let console = warp::path!("console")
        .and(get)
        .map(|| asset(CONSOLE_HTML, "text/html; charset=utf-8"));
    let console_js = warp::path!("console.js")
        .and(get)
        .map(|| asset(CONSOLE_JS, "text/javascript; charset=utf-8"));
    let console_css = warp::path!("console.css")
        .and(get)
        .map(|| asset(CONSOLE_CSS, "text/css; charset=utf-8"));
    index
        .or(widget)
        .unify()
        .or(console)
        .unify()
        .or(console_js)
        .unify()
        .or(console_css)
        .unify()
}
