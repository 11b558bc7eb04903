//! The real signaling server (`walletwire-server`'s [`Signaling`]) called in-process through
//! its own axum routes: every request goes through the same body limit, JSON-RPC parsing,
//! JWT check and store as over HTTP.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use clap::Parser;
use http_body_util::BodyExt;
use tower::ServiceExt;
use walletwire::direct::jwt::Secret;
use walletwire_server::{Cli, Signaling};

/// The HS256 secret of the fuzzed server.
pub const SECRET: &str = "fuzz-signaling-secret-0123456789";

/// The secret as a [`Secret`], to forge and to check tokens.
pub fn secret() -> Secret {
    Secret::new(SECRET.as_bytes().to_vec()).expect("long enough")
}

/// A fresh signaling server (an empty store) with small caps (so "full" is reachable). The
/// command line is parsed once per process: parsing cost more than the calls of an input.
pub fn routes() -> Router {
    static CLI: OnceLock<Cli> = OnceLock::new();
    let cli = CLI.get_or_init(|| {
        Cli::try_parse_from([
            "walletwire-server",
            "--signaling-secret",
            SECRET,
            "--signaling-max-entries",
            "3",
            "--signaling-max-bytes",
            "6000",
        ])
        .expect("the fuzz signaling arguments parse")
    });
    let signaling: Arc<Signaling> = Signaling::new(&cli.signaling).expect("signaling starts");
    signaling.routes()
}

/// One HTTP POST: (status, content type, body).
pub async fn post(
    routes: &Router,
    path: &str,
    authorization: Option<&str>,
    body: Vec<u8>,
) -> (u16, Option<String>, Vec<u8>) {
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let Ok(mut request) = request.body(Body::from(body)) else {
        // A header value the HTTP layer refuses never reaches the server.
        return (0, None, Vec::new());
    };
    // What `axum::serve` with connect info gives the handler: the client's address.
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40_000,
        ))));
    let response = routes
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body is in memory")
        .to_bytes()
        .to_vec();
    (status, content_type, body)
}
