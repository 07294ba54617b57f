//! The browser assets, embedded in the binary: the demo region page at `/`, the chat widget at
//! `/widget.js`, and the professional console at `/console` (+ its script and styles). For
//! front-end work, `LUUKKU_DEV_ASSETS=server/assets` serves the files from disk instead.

use std::borrow::Cow;
use warp::{Filter, Reply};

/// (URL path, file name, content type, embedded text)
const ASSETS: &[(&str, &str, &str, &str)] = &[
    (
        "",
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../assets/index.html"),
    ),
    (
        "widget.js",
        "widget.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/widget.js"),
    ),
    (
        "console",
        "console.html",
        "text/html; charset=utf-8",
        include_str!("../../assets/console.html"),
    ),
    (
        "console.js",
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/console.js"),
    ),
    (
        "console.css",
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/console.css"),
    ),
];

fn body(file: &str, embedded: &'static str) -> Cow<'static, str> {
    match std::env::var_os("LUUKKU_DEV_ASSETS") {
        Some(dir) => std::fs::read_to_string(std::path::Path::new(&dir).join(file))
            .map(Cow::Owned)
            .unwrap_or(Cow::Borrowed(embedded)),
        None => Cow::Borrowed(embedded),
    }
}

fn reply(path: &str) -> Option<warp::reply::Response> {
    let (_, file, content_type, embedded) = ASSETS.iter().find(|a| a.0 == path)?;
    let text: String = body(file, embedded).into_owned();
    let r = warp::reply::with_header(text, "content-type", *content_type);
    let r = warp::reply::with_header(r, "cache-control", "no-cache");
    let r = warp::reply::with_header(r, "x-content-type-options", "nosniff");
    let r = r.into_response();
    if path != "widget.js" {
        return Some(r);
    }
    // The widget is embedded on the region's other sites: it must load cross-origin.
    Some(warp::reply::with_header(r, "access-control-allow-origin", "*").into_response())
}

pub fn routes() -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone
{
    // Only ever rejects with not_found, so other routes' errors (bad JSON, wrong method) win.
    warp::path::tail().and(warp::method()).and_then(
        |tail: warp::path::Tail, method: warp::http::Method| async move {
            match method {
                warp::http::Method::GET => reply(tail.as_str()).ok_or_else(warp::reject::not_found),
                _ => Err(warp::reject::not_found()),
            }
        },
    )
}
