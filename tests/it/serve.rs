//! `kapok serve` over HTTP: the API against the command line, bad requests, exports, load.

use super::server::Server;

#[test]
fn the_server_answers_a_ping_and_names_a_bad_parameter() {
    let s = Server::start("indicators/hongmian.toml", &[]);
    let r = s.get("/api/ping");
    assert_eq!((r.status, r.text().as_str()), (200, "{}"));
    let r = s.get("/api/score?w.safty=2");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["param"], "w.safty");
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(s.url.starts_with("http://127.0.0.1:"), "{}", s.url);
    assert!(s.stderr.lock().unwrap().contains("Ctrl-C to stop"));
}
