//! `kapok serve` in headless Chromium, driven over the DevTools protocol: the page a shared link
//! opens shows the ranking `kapok score … --weight …` computes, and a slider moved with real
//! mouse or keyboard input re-scores the page to the ranking of the weights its URL then holds.
//!
//! Ignored by default (they need Chromium); `.ci/run` runs them with
//! `cargo test --test it -- --ignored browser_`. `CHROMIUM` names another browser binary.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::server::Server;
use super::util::{Csv, kapok, tempdir, texts};

const STREETS: &str = "indicators/hongmian-streets.toml";
/// The longest any wait of these tests lasts.
const WAIT: Duration = Duration::from_secs(60);

/// A headless Chromium with one page, driven over the DevTools protocol; killed when dropped.
struct Browser {
    _child: Killed,
    _profile: tempfile::TempDir,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// JavaScript exceptions the page threw (Runtime.exceptionThrown).
    exceptions: Vec<String>,
}

impl Browser {
    /// Starts Chromium with a fresh profile and a `width`×`height` window and attaches to its
    /// page.
    fn launch(width: u32, height: u32) -> Browser {
        let profile = tempdir();
        let bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let child = Command::new(&bin)
            .args(crate::util::CHROMIUM_HEADLESS)
            .args([
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                &format!("--user-data-dir={}", profile.path().display()),
                &format!("--window-size={width},{height}"),
                "about:blank",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `{bin}` ({e}); install it (apt-get install chromium) or set CHROMIUM")
            });
        let mut child = Killed(child);
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…" on standard error;
        // the rest of standard error is drained so that Chromium never blocks on it.
        let err = child.0.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(at) = line.find("ws://") {
                    let _ = tx.send(line[at..].trim().to_string());
                }
            }
        });
        let browser_ws = match rx.recv_timeout(WAIT) {
            Ok(url) => url,
            Err(_) => panic!("Chromium printed no DevTools address within {WAIT:?}"),
        };
        let addr = browser_ws
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        // The page target's own socket, from /json/list.
        let start = Instant::now();
        let page_ws = loop {
            let list = devtools_get(&addr, "/json/list");
            let targets: Value = serde_json::from_str(&list).unwrap_or(Value::Null);
            let found = targets.as_array().and_then(|a| {
                a.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(String::from))
            });
            match found {
                Some(url) => break url,
                None if start.elapsed() < WAIT => std::thread::sleep(Duration::from_millis(100)),
                None => panic!("Chromium shows no page target: {list}"),
            }
        };
        let (ws, _) = tungstenite::connect(page_ws.as_str()).expect("connects to the page target");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(WAIT)).unwrap();
        }
        let mut b = Browser {
            _child: child,
            _profile: profile,
            ws,
            next_id: 0,
            exceptions: Vec::new(),
        };
        b.call("Runtime.enable", json!({}));
        b.call("Page.enable", json!({}));
        // The viewport exactly (a headless window is at least 500 px wide).
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500 }),
        );
        b
    }

    /// Calls a DevTools method and returns its result (events read meanwhile are kept if they
    /// are exceptions, dropped otherwise).
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.ws
            .send(Message::text(msg.to_string()))
            .unwrap_or_else(|e| panic!("sending {method} to Chromium: {e}"));
        loop {
            let m = self
                .ws
                .read()
                .unwrap_or_else(|e| panic!("no answer from Chromium to {method} ({e})"));
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).expect("DevTools sends JSON");
            if v["method"] == "Runtime.exceptionThrown" {
                self.exceptions
                    .push(v["params"]["exceptionDetails"].to_string());
            }
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    /// Evaluates `expr` in the page (promises awaited) and returns its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("evaluating `{expr}` threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Waits (at most [`WAIT`]) until `expr` is true in the page.
    fn wait_for(&mut self, expr: &str, what: &str) {
        let start = Instant::now();
        while self.eval(&format!("!!({expr})")) != Value::Bool(true) {
            if start.elapsed() > WAIT {
                let state = self.eval(
                    "JSON.stringify({state: document.body && document.body.dataset.state, \
                     query: document.body && document.body.dataset.query, url: location.href, \
                     banner: document.getElementById('banner') && document.getElementById('banner').textContent})",
                );
                panic!("waited {WAIT:?} for {what}; the page: {state}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens `url` and waits until the page shows the ranking of its URL.
    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for(
            &format!(
                "location.href === {} && document.readyState === 'complete' && document.body.dataset.state === 'ready'",
                json!(url)
            ),
            &format!("{url} to be shown"),
        );
    }

    /// Opens `url` and waits until its document is loaded, whatever the page's state.
    fn open_any(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_for(
            &format!(
                "location.href.startsWith({}) && document.readyState === 'complete' && document.body.dataset.state !== undefined",
                json!(url.split('?').next().unwrap())
            ),
            &format!("{url} to load"),
        );
    }

    /// The ranking in the DOM: (unit, rank, score) of every `#ranking .unit`, in shown order.
    fn ranking(&mut self) -> Vec<Shown> {
        let v = self.eval(
            "JSON.stringify([...document.querySelectorAll('#ranking .unit')].map(e => \
             [e.dataset.unit, e.dataset.rank, e.dataset.score]))",
        );
        let rows: Vec<(String, String, String)> =
            serde_json::from_str(v.as_str().expect("a JSON string")).unwrap();
        rows.into_iter()
            .map(|(unit, rank, score)| Shown {
                unit,
                rank: (!rank.is_empty()).then(|| rank.parse().expect("data-rank is a number")),
                score: (!score.is_empty()).then(|| score.parse().expect("data-score is a number")),
            })
            .collect()
    }

    /// The centre of the element `selector`, scrolled into view, in viewport pixels.
    fn centre(&mut self, selector: &str) -> (f64, f64, f64) {
        let v = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); e.scrollIntoView({{block: 'center'}}); \
             const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2, r.width]; }})()",
            json!(selector)
        ));
        let f = |i: usize| v[i].as_f64().expect("a number");
        (f(0), f(1), f(2))
    }

    fn mouse(&mut self, kind: &str, x: f64, y: f64, buttons: u32) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1 }),
        );
    }

    /// Presses and releases a key (`ArrowRight`, `End`, …) in the focused element.
    fn key(&mut self, key: &str, code: u32) {
        // Enter types a character (it activates a button on key press); the others do not.
        let down = if key == "Enter" {
            json!({ "type": "keyDown", "key": key, "code": key, "windowsVirtualKeyCode": code,
                    "nativeVirtualKeyCode": code, "text": "\r", "unmodifiedText": "\r" })
        } else {
            json!({ "type": "rawKeyDown", "key": key, "code": key, "windowsVirtualKeyCode": code,
                    "nativeVirtualKeyCode": code })
        };
        self.call("Input.dispatchKeyEvent", down);
        self.call(
            "Input.dispatchKeyEvent",
            json!({ "type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": code,
                    "nativeVirtualKeyCode": code }),
        );
    }

    /// Presses Tab until the element `selector` has the focus (keyboard only).
    fn tab_to(&mut self, selector: &str) {
        for _ in 0..200 {
            if self.eval(&format!(
                "document.activeElement === document.querySelector({})",
                json!(selector)
            )) == Value::Bool(true)
            {
                return;
            }
            self.key("Tab", 9);
        }
        panic!("Tab never reached {selector}");
    }

    /// Saves a screenshot as `$KAPOK_SHOTS/NAME.png` when `KAPOK_SHOTS` names a directory
    /// (for looking at the page; nothing is checked).
    fn shot(&mut self, name: &str) {
        let Some(dir) = std::env::var_os("KAPOK_SHOTS") else {
            return;
        };
        let r = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = base64_decode(r["data"].as_str().expect("screenshot data"));
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }

    /// Fails the test if the page threw an uncaught exception.
    fn assert_no_exceptions(&self) {
        assert!(
            self.exceptions.is_empty(),
            "the page threw: {:?}",
            self.exceptions
        );
    }

    fn body_data(&mut self, key: &str) -> String {
        self.eval(&format!("document.body.dataset.{key}"))
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

/// A child process killed when dropped, also when a test panics while starting it.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Standard base64 decoded (Chromium's screenshots).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().fold(0u32, |acc, &c| (acc << 6) | value(c)) << (6 * (4 - chunk.len()));
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    out
}

/// The body of `GET path` from Chromium's DevTools HTTP server, which keeps the connection
/// open: read up to its `Content-Length`.
fn devtools_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connects to Chromium's DevTools port");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("reading {path} from Chromium: {e}"));
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw);
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if raw.len() >= end + 4 + len {
                return String::from_utf8_lossy(&raw[end + 4..end + 4 + len]).into_owned();
            }
        }
    }
    panic!("Chromium closed the connection before answering {path}")
}

/// A unit as the page shows it.
#[derive(Debug)]
struct Shown {
    unit: String,
    rank: Option<u32>,
    score: Option<f64>,
}

/// The CLI's results of the query `search` (a page URL's query string): `kapok score FRAMEWORK
/// --period P --weight id=w … -o tmp.csv`, read as unit → (rank, score) of the index.
fn cli_ranking(framework: &str, search: &str) -> HashMap<String, (Option<u32>, Option<f64>)> {
    let tmp = tempdir();
    let out_csv = tmp.path().join("scores.csv");
    let mut args: Vec<String> = vec!["score".into(), framework.into()];
    for (k, v) in form_urlencoded::parse(search.trim_start_matches('?').as_bytes()) {
        match k.as_ref() {
            "period" | "normalize" | "aggregate" => args.extend([format!("--{k}"), v.into()]),
            "lang" => {}
            w if w.starts_with("w.") => {
                args.extend(["--weight".into(), format!("{}={v}", &w[2..])])
            }
            other => panic!("the page's URL has a parameter the CLI does not take: {other}"),
        }
    }
    args.extend(["-o".into(), out_csv.to_str().unwrap().into()]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = kapok(&argv);
    assert_eq!(
        out.status.code(),
        Some(0),
        "kapok {argv:?}: {}",
        texts(&out).1
    );
    let csv = Csv::read(&out_csv);
    // The index's columns come first.
    let rank = csv
        .header
        .iter()
        .position(|h| h.starts_with("rank."))
        .expect("a rank column");
    let score = csv
        .header
        .iter()
        .position(|h| h.starts_with("score."))
        .expect("a score column");
    let unit = csv.col("unit");
    csv.rows
        .iter()
        .map(|r| {
            (
                r[unit].clone(),
                (
                    (!r[rank].is_empty()).then(|| r[rank].parse().unwrap()),
                    (!r[score].is_empty()).then(|| r[score].parse().unwrap()),
                ),
            )
        })
        .collect()
}

/// Asserts that the page shows every unit of the CLI's results, with its rank and score, best
/// first.
fn assert_same_ranking(
    shown: &[Shown],
    cli: &HashMap<String, (Option<u32>, Option<f64>)>,
    what: &str,
) {
    assert_eq!(
        shown.len(),
        cli.len(),
        "{what}: the page shows {} units, the CLI ranks {}",
        shown.len(),
        cli.len()
    );
    for s in shown {
        let (rank, score) = cli
            .get(&s.unit)
            .unwrap_or_else(|| panic!("{what}: the page shows {} that the CLI does not", s.unit));
        assert_eq!(s.rank, *rank, "{what}: rank of {}", s.unit);
        match (s.score, score) {
            (Some(a), Some(b)) => assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{what}: score of {}: page {a}, CLI {b}",
                s.unit
            ),
            (a, b) => assert_eq!(a, *b, "{what}: score of {}", s.unit),
        }
    }
    // Shown best first: ranked units by rank, then the unranked.
    let order: Vec<u32> = shown.iter().map(|s| s.rank.unwrap_or(u32::MAX)).collect();
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "{what}: the page's order is not by rank: {order:?}"
    );
}

/// The unit keys in shown order, with their ranks.
fn keys(shown: &[Shown]) -> Vec<(String, Option<u32>)> {
    shown.iter().map(|s| (s.unit.clone(), s.rank)).collect()
}

#[test]
#[ignore = "needs Chromium; run by .ci/run"]
fn browser_shared_link_shows_the_cli_ranking() {
    let server = Server::start(STREETS, &[]);
    let mut b = Browser::launch(1280, 900);
    let query = "period=2023-12&w.public_safety=3&w.hotline=0";
    b.open(&format!("{}?{query}", server.url));
    assert_eq!(b.body_data("query"), query, "the page shows another query");
    let shown = b.ranking();
    assert_same_ranking(&shown, &cli_ranking(STREETS, query), "shared link");
    // The link's weights are not the framework's: the ranking differs from the official one.
    let official = cli_ranking(STREETS, "period=2023-12");
    assert!(
        shown.iter().any(|s| official[&s.unit].0 != s.rank),
        "the changed weights left every rank as it is officially; the test proves nothing"
    );
    // The controls show the link's weights.
    assert_eq!(
        b.eval("document.querySelector('input[type=number][data-node=public_safety]').value"),
        json!("3")
    );
    assert_eq!(
        b.eval("document.querySelector('input[type=range][data-node=hotline]').value"),
        json!("0")
    );
    assert_eq!(
        b.eval("document.getElementById('period').value"),
        json!("2023-12")
    );
    // Rank changes shown against the official weights.
    let first = &shown[0];
    let arrow = b.eval(&format!(
        "document.querySelector('#ranking .unit[data-unit=\"{}\"] .chg').textContent",
        first.unit
    ));
    let climbed = official[&first.unit].0.unwrap() as i64 - first.rank.unwrap() as i64;
    let want = match climbed {
        0 => "–".to_string(),
        n if n > 0 => format!("↑{n}"),
        n => format!("↓{}", -n),
    };
    assert_eq!(arrow, json!(want), "rank change of {}", first.unit);

    // The rank intervals arrive after the first paint: each unit's q5–q95 of /api/intervals.
    b.wait_for(
        "![...document.querySelectorAll('#ranking .interval')].some(e => e.classList.contains('pending'))",
        "the rank intervals",
    );
    let iv = server.get("/api/intervals?period=2023-12").json();
    let shown_iv = b.eval(
        "JSON.stringify(Object.fromEntries([...document.querySelectorAll('#ranking .unit')].map(e => \
         [e.dataset.unit, e.querySelector('.interval .iv-text').textContent])))",
    );
    let shown_iv: HashMap<String, String> =
        serde_json::from_str(shown_iv.as_str().unwrap()).unwrap();
    for u in iv["units"].as_array().unwrap() {
        let unit = u["unit"].as_str().unwrap();
        let want = format!(
            "{}–{}",
            u["q5"].as_f64().unwrap().round(),
            u["q95"].as_f64().unwrap().round()
        );
        assert_eq!(shown_iv[unit], want, "rank interval of {unit}");
    }

    // "How far can this unit move?": a click on the first unit's button shows its best and
    // worst rank of /api/reach, and says what was searched.
    let reach_button = format!("#ranking .unit[data-unit=\"{}\"] .reach", first.unit);
    let (x, y, _) = b.centre(&reach_button);
    b.mouse("mouseMoved", x, y, 0);
    b.mouse("mousePressed", x, y, 1);
    b.mouse("mouseReleased", x, y, 0);
    b.wait_for(
        &format!("document.querySelector({}).classList.contains('shown') && !document.getElementById('reach-note').hidden", json!(reach_button)),
        "the reach of a unit",
    );
    let reach = server.get("/api/reach?period=2023-12").json();
    let r = reach["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == first.unit.as_str())
        .expect("the unit's reach");
    assert_eq!(
        b.eval(&format!(
            "document.querySelector({}).textContent",
            json!(reach_button)
        )),
        json!(format!("{}–{}", r["best"], r["worst"])),
        "reach of {}",
        first.unit
    );
    let note = b.eval("document.getElementById('reach-note').textContent");
    let note = note.as_str().unwrap();
    assert!(
        note.contains(&reach["weightings"].to_string()),
        "the note does not say how many weightings were searched: {note}"
    );
    b.shot("browser-shared-link-zh-1280");
    b.assert_no_exceptions();
}

#[test]
#[ignore = "needs Chromium; run by .ci/run"]
fn browser_dragging_a_slider_rescores_as_the_cli() {
    let server = Server::start(STREETS, &[]);
    let mut b = Browser::launch(1280, 900);
    b.open(&format!("{}?period=2023-12", server.url));
    let before = b.ranking();
    let query_before = b.body_data("query");
    assert_same_ranking(
        &before,
        &cli_ranking(STREETS, &query_before),
        "before the drag",
    );

    // Drag the thumb of the public-safety slider to near the right end of its track.
    let slider = "input[type=range][data-node=public_safety]";
    let (x, y, width) = b.centre(slider);
    let value: f64 = b
        .eval(&format!("+document.querySelector('{slider}').value"))
        .as_f64()
        .unwrap();
    let max: f64 = b
        .eval(&format!("+document.querySelector('{slider}').max"))
        .as_f64()
        .unwrap();
    let left = x - width / 2.0;
    let thumb = left + 8.0 + (width - 16.0) * value / max;
    b.mouse("mouseMoved", thumb, y, 0);
    b.mouse("mousePressed", thumb, y, 1);
    for step in 1..=10 {
        let to = thumb + (left + width - 4.0 - thumb) * step as f64 / 10.0;
        b.mouse("mouseMoved", to, y, 1);
        std::thread::sleep(Duration::from_millis(20));
    }
    b.mouse("mouseReleased", left + width - 4.0, y, 0);

    b.wait_for(
        &format!(
            "document.body.dataset.state === 'ready' && document.body.dataset.query !== {}",
            json!(query_before)
        ),
        "the page to re-score after the drag",
    );
    let search = b.eval("location.search").as_str().unwrap().to_string();
    assert!(
        search.contains("w.public_safety="),
        "the URL does not hold the dragged weight: {search}"
    );
    assert_eq!(format!("?{}", b.body_data("query")), search);
    let after = b.ranking();
    assert_ne!(
        keys(&before),
        keys(&after),
        "the drag left the ranking as it was"
    );
    assert_same_ranking(&after, &cli_ranking(STREETS, &search), "after the drag");
    b.shot("browser-drag-zh-1280");
    b.assert_no_exceptions();
}

#[test]
#[ignore = "needs Chromium; run by .ci/run"]
fn browser_keyboard_on_a_slider_rescores_as_the_cli() {
    let server = Server::start(STREETS, &[]);
    let mut b = Browser::launch(1280, 900);
    b.open(&format!("{}?period=2023-12&lang=en", server.url));
    let before = b.ranking();
    let query_before = b.body_data("query");

    // Tab to the hotline slider and press ArrowLeft until it reaches zero (step 0.1 from 1).
    let slider = "input[type=range][data-node=hotline]";
    b.tab_to(slider);
    for _ in 0..12 {
        b.key("ArrowLeft", 37);
    }
    b.wait_for(
        &format!(
            "document.body.dataset.state === 'ready' && document.body.dataset.query !== {}",
            json!(query_before)
        ),
        "the page to re-score after the keys",
    );
    let search = b.eval("location.search").as_str().unwrap().to_string();
    assert!(
        search.contains("w.hotline=0") && search.contains("lang=en"),
        "the URL does not hold the weight set with the keyboard: {search}"
    );
    assert_eq!(
        b.eval("document.querySelector('input[type=number][data-node=hotline]').value"),
        json!("0"),
        "the number box does not follow the slider"
    );
    let after = b.ranking();
    assert_ne!(
        keys(&before),
        keys(&after),
        "the keys left the ranking as it was"
    );
    assert_same_ranking(&after, &cli_ranking(STREETS, &search), "after the keys");
    b.shot("browser-keyboard-en-1280");

    // Reset brings the official weights back, also by keyboard.
    b.tab_to("button#reset");
    b.key("Enter", 13);
    b.wait_for(
        "document.body.dataset.state === 'ready' && document.body.dataset.query === 'period=2023-12&lang=en'",
        "the page to re-score after Reset",
    );
    assert_eq!(
        keys(&b.ranking()),
        keys(&before),
        "Reset did not bring the official ranking back"
    );
    b.assert_no_exceptions();
}

#[test]
#[ignore = "needs Chromium; run by .ci/run"]
fn browser_a_phone_sees_indicator_weights_and_errors_next_to_their_box() {
    // A framework without periods, on a phone-wide window.
    let server = Server::start("indicators/asem.toml", &[]);
    let mut b = Browser::launch(390, 900);
    b.open(&server.url);
    assert_eq!(
        b.eval("document.getElementById('period').offsetParent === null"),
        json!(true),
        "a framework without periods shows a period selector"
    );
    assert_same_ranking(
        &b.ranking(),
        &cli_ranking("indicators/asem.toml", ""),
        "asem",
    );
    // The controls stack above the ranking, and nothing is wider than the window.
    let layout = b.eval(
        "[document.getElementById('controls').querySelector('input[type=range]').getBoundingClientRect().top, \
          document.getElementById('ranking').getBoundingClientRect().top, \
          document.documentElement.scrollWidth, window.innerWidth]",
    );
    let px = |i: usize| layout[i].as_f64().unwrap();
    assert!(
        px(0) < px(1) && px(2) <= px(3) && px(3) <= 400.0,
        "the phone layout does not stack the controls above the ranking within 390 px \
         (slider top, ranking top, page width, window width): {layout}"
    );

    // Expanding a dimension shows its children's weights.
    let hidden =
        "document.querySelector('input[type=range][data-node=Physical]').offsetParent === null";
    assert_eq!(b.eval(hidden), json!(true));
    let (x, y, _) = b.centre(".node[data-id=Conn] > .node-head > .toggle");
    b.mouse("mousePressed", x, y, 1);
    b.mouse("mouseReleased", x, y, 0);
    assert_eq!(
        b.eval(hidden),
        json!(false),
        "expanding Conn does not show Physical's slider"
    );

    // Both top dimensions typed to 0: the server refuses, and says so next to the box it names.
    for id in ["Conn", "Sust"] {
        let (x, y, _) = b.centre(&format!("input[type=number][data-node={id}]"));
        for _ in 0..3 {
            b.mouse("mousePressed", x, y, 1);
            b.mouse("mouseReleased", x, y, 0);
        }
        b.eval(&format!(
            "document.querySelector('input[type=number][data-node={id}]').select()"
        ));
        b.call("Input.insertText", json!({ "text": "0" }));
    }
    b.wait_for(
        "document.body.dataset.state === 'error'",
        "the page to show the server's refusal",
    );
    let api = server.get("/api/score?w.Conn=0&w.Sust=0");
    assert_eq!(api.status, 400);
    let param = api.json()["param"].as_str().unwrap().to_string();
    let id = param.trim_start_matches("w.");
    let shown = b.eval(&format!(
        "document.querySelector('.node[data-id={id}] > .err').textContent"
    ));
    assert_eq!(
        shown,
        api.json()["error"],
        "the error is not shown next to the box of {param}"
    );
    assert_eq!(
        b.eval(&format!(
            "document.querySelector('input[type=number][data-node={id}]').getAttribute('aria-invalid')"
        )),
        json!("true")
    );
    b.shot("browser-phone-error-390");
    // One weight back: the ranking of the URL again.
    let (x, y, _) = b.centre("input[type=number][data-node=Conn]");
    b.mouse("mousePressed", x, y, 1);
    b.mouse("mouseReleased", x, y, 0);
    b.eval("document.querySelector('input[type=number][data-node=Conn]').select()");
    b.call("Input.insertText", json!({ "text": "2" }));
    b.wait_for(
        "document.body.dataset.state === 'ready' && document.body.dataset.query === 'w.Conn=2&w.Sust=0'",
        "the page to re-score with Conn = 2",
    );
    let search = b.eval("location.search").as_str().unwrap().to_string();
    assert_same_ranking(
        &b.ranking(),
        &cli_ranking("indicators/asem.toml", &search),
        "Conn = 2, Sust = 0",
    );
    assert_eq!(
        b.eval("document.querySelectorAll('.err:not([hidden])').length"),
        json!(0),
        "the error stays after a good answer"
    );

    // A shared link with a mistake: said on top, left out, the rest of the link re-scored.
    b.open_any(&format!("{}?w.Conn=2&w.nope=1", server.url));
    b.wait_for(
        "document.body.dataset.state === 'ready' && document.body.dataset.query === 'w.Conn=2' \
         && location.search === '?w.Conn=2'",
        "the page to leave out the link's unknown weight",
    );
    let banner = b.eval("document.getElementById('banner').hidden ? '' : document.getElementById('banner').textContent");
    assert!(
        banner.as_str().unwrap().contains("w.nope"),
        "the link's mistake is not said: {banner}"
    );
    assert_same_ranking(
        &b.ranking(),
        &cli_ranking("indicators/asem.toml", "w.Conn=2"),
        "a link with a mistake",
    );
    b.assert_no_exceptions();
}
