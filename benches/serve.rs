//! `kapok serve` benchmarks: `cargo bench --bench serve`.
//!
//! Issue 11's targets, each measured next to a baseline in the same run (machines here are
//! noisy):
//!
//! - re-scoring the 176 streets for one period with changed weights on the server
//!   ([`Model::score`]: the kept normalised values re-aggregated), median under 1 ms; the
//!   baseline is the whole pipeline of the same framework ([`kapok::evaluate`], every period,
//!   as `kapok score` and the CSV download run it);
//! - the loopback round trip of `/api/score?…`, median under 20 ms; the baseline is the no-op
//!   `/api/ping` on the same connection. The server runs in this process
//!   ([`kapok::serve::router`] on a tokio runtime in its own thread, bound to 127.0.0.1:0);
//!   the client is std's `TcpStream`, one keep-alive connection for the requests in turn, and
//!   also a new connection per request.
//!
//! Every figure is the median (and 90th percentile) of `n` timed runs after one warm-up.
//! `KAPOK_BENCH_ITERS=N` sets `n` (default 1000; the full pipeline runs `n / 50`, at least 3),
//! e.g. `KAPOK_BENCH_ITERS=20 cargo bench --bench serve --profile dev` to check it quickly.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kapok::serve::{Model, Query};

/// The framework re-scored.
const FRAMEWORK: &str = "indicators/hongmian-streets.toml";
/// Weight changes, taken in turn (as a user moving sliders).
const QUERIES: [&str; 4] = [
    "period=2023-12&w.public_safety=3",
    "period=2023-12&w.public_safety=3&w.hotline=0.5",
    "period=2023-12&w.sense_of_safety=4&w.copolicing=0",
    "period=2023-12&w.theft_rate=2&w.personal_safety=0.25",
];

/// Median, 90th percentile and count of some timings.
struct Stats {
    median: Duration,
    p90: Duration,
    n: usize,
}

impl Stats {
    fn of(mut t: Vec<Duration>) -> Stats {
        t.sort();
        let at = |q: f64| t[((t.len() - 1) as f64 * q).round() as usize];
        Stats {
            median: at(0.5),
            p90: at(0.9),
            n: t.len(),
        }
    }
}

/// Times `f` `n` times after one warm-up call; `f` gets the run's number.
fn time(n: usize, mut f: impl FnMut(usize)) -> Stats {
    f(0);
    Stats::of(
        (0..n)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect(),
    )
}

/// Starts the server on 127.0.0.1:0 in its own thread; returns its address.
fn start_server(model: Arc<Model>) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("binds 127.0.0.1:0");
            tx.send(listener.local_addr().unwrap()).unwrap();
            let router = kapok::serve::router(model, true);
            kapok::serve::serve(listener, router, std::future::pending())
                .await
                .expect("serves");
        });
    });
    rx.recv().expect("the server's address")
}

/// Sends `GET path` on `conn` and reads the whole answer (by its `Content-Length`); returns
/// the status and the body's length.
fn get(conn: &mut BufReader<TcpStream>, addr: SocketAddr, path: &str) -> (u16, usize) {
    write!(
        conn.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    )
    .expect("sends");
    let mut status = 0;
    let mut length = 0;
    let mut line = String::new();
    loop {
        line.clear();
        conn.read_line(&mut line).expect("reads the head");
        if status == 0 {
            status = line
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("a status");
        } else if line == "\r\n" {
            break;
        } else if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).expect("reads the body");
    (status, body.len())
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let s = TcpStream::connect(addr).expect("connects");
    s.set_nodelay(true).unwrap();
    BufReader::new(s)
}

fn main() {
    let n: usize = std::env::var("KAPOK_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(FRAMEWORK);
    let fw = kapok::load(&path).expect("framework loads");
    let t = Instant::now();
    let model = Arc::new(Model::load(fw, path, None).expect("the model loads"));
    let t_load = t.elapsed();
    let queries: Vec<Query> = QUERIES
        .iter()
        .map(|q| Query::parse(q).expect("a valid query"))
        .collect();
    let units = model.score(&queries[0]).expect("scores").rows.len();

    // (a) Re-scoring on the server, against the whole pipeline.
    let rescore = time(n, |i| {
        black_box(model.score(&queries[i % queries.len()]).expect("scores"));
    });
    let rescore_json = time(n, |i| {
        let s = model.score(&queries[i % queries.len()]).expect("scores");
        black_box(kapok::serve::json::score(&model, &s).to_string());
    });
    // Methods other than the framework's: every period is re-aggregated (a method that fails
    // in one is refused, as the command line refuses it).
    let methods = Query::parse("period=2023-12&normalize=zscore&w.public_safety=3").unwrap();
    let rescore_methods = time(n, |_| {
        black_box(model.score(&methods).expect("scores"));
    });
    let full = time((n / 50).max(3), |i| {
        let fw = model
            .framework(&queries[i % queries.len()])
            .expect("a framework");
        black_box(kapok::evaluate(&fw, model.panel.clone()).expect("evaluates"));
    });

    // (b) The loopback round trip, against a no-op request on the same connection.
    let addr = start_server(model.clone());
    let paths: Vec<String> = QUERIES.iter().map(|q| format!("/api/score?{q}")).collect();
    let mut conn = connect(addr);
    let mut pings = Vec::with_capacity(n);
    let mut scores = Vec::with_capacity(n);
    let mut bytes = 0;
    for i in 0..=n {
        let t = Instant::now();
        let (status, _) = get(&mut conn, addr, "/api/ping");
        let t_ping = t.elapsed();
        assert_eq!(status, 200, "/api/ping");
        let t = Instant::now();
        let (status, len) = get(&mut conn, addr, &paths[i % paths.len()]);
        let t_score = t.elapsed();
        assert_eq!(status, 200, "{}", paths[i % paths.len()]);
        if i > 0 {
            // the first pair warms up
            pings.push(t_ping);
            scores.push(t_score);
            bytes = len;
        }
    }
    let ping = Stats::of(pings);
    let trip = Stats::of(scores);
    let fresh = time(n, |i| {
        let mut c = connect(addr);
        let (status, _) = get(&mut c, addr, &paths[i % paths.len()]);
        assert_eq!(status, 200);
    });

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{FRAMEWORK}: {units} streets, {} periods; model loaded in {:.2} s; answer {:.1} KiB",
        model.panel.periods.len(),
        t_load.as_secs_f64(),
        bytes as f64 / 1024.0
    );
    println!("{:<58} {:>10} {:>10} {:>6}", "case", "median", "p90", "n");
    for (name, s) in [
        (
            "re-score one period, changed weights (Model::score)",
            &rescore,
        ),
        ("  … and its JSON answer (json::score)", &rescore_json),
        (
            "re-score, normalize=zscore (every period checked)",
            &rescore_methods,
        ),
        ("whole pipeline, every period (kapok::evaluate)", &full),
        ("round trip /api/ping (keep-alive)", &ping),
        ("round trip /api/score?… (keep-alive)", &trip),
        ("round trip /api/score?… (new connection each)", &fresh),
    ] {
        println!(
            "{name:<58} {:>8.3}ms {:>8.3}ms {:>6}",
            ms(s.median),
            ms(s.p90),
            s.n
        );
    }
    let verdict = |ok: bool| if ok { "pass" } else { "FAIL" };
    println!(
        "re-score median {:.3} ms < 1 ms: {} ({:.0}× faster than the whole pipeline)",
        ms(rescore.median),
        verdict(rescore.median < Duration::from_millis(1)),
        full.median.as_secs_f64() / rescore.median.as_secs_f64()
    );
    println!(
        "round trip median {:.3} ms < 20 ms: {} (no-op {:.3} ms; new connection {:.3} ms)",
        ms(trip.median),
        verdict(trip.median < Duration::from_millis(20)),
        ms(ping.median),
        ms(fresh.median)
    );
}
