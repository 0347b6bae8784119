//! Generates kapok's SYNTHETIC sample data for Guangzhou (see `data/README.md`).
//!
//! ```text
//! cargo run --example gen_sample_data -- [OUT_DIR] [REFERENCE_DIR]
//! ```
//!
//! `OUT_DIR` defaults to `data`; `REFERENCE_DIR` defaults to the repository's
//! `data/reference/` (the real district and street tables). Everything is drawn from a
//! self-contained SplitMix64 generator with a fixed seed, so two runs write byte-identical
//! files: CSV by hand, Parquet uncompressed with a fixed `created_by`, XLSX with a fixed
//! creation date.
//!
//! Only the codes, names, census population and district areas are real. Street population
//! and area are synthetic splits of the district totals; every monthly figure is synthetic.

use std::collections::HashMap;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

type Res<T> = Result<T, Box<dyn Error>>;

const SEED: u64 = 0x4B41_504F_4B5F_4755; // "KAPOK_GU"
const YEARS: [u32; 2] = [2022, 2023];
const EMERGENCY_UNITS_END: u64 = 23_000; // 最小应急单元, city-wide, December 2023

// ---------------------------------------------------------------------------------------
// Random numbers: SplitMix64, Box–Muller, Poisson, binomial. No crate algorithms involved.
// ---------------------------------------------------------------------------------------

struct Rng {
    state: u64,
    spare: Option<f64>,
}

impl Rng {
    fn new(seed: u64) -> Self {
        Rng {
            state: seed,
            spare: None,
        }
    }

    /// A generator for one (stream, item) pair, so files and streets do not share draws.
    fn stream(stream: u64, item: u64) -> Self {
        let mut r = Rng::new(SEED ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
        r.state ^= item.wrapping_mul(0x9FB2_1C65_1E98_DF25);
        r.next_u64();
        r
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = self.uniform();
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }

    fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            // Knuth's multiplication method.
            let limit = (-lambda).exp();
            let mut k = 0u64;
            let mut p = self.uniform();
            while p > limit {
                k += 1;
                p *= self.uniform();
            }
            k
        } else {
            let x = lambda + lambda.sqrt() * self.normal();
            x.round().max(0.0) as u64
        }
    }

    fn binomial(&mut self, n: u64, p: f64) -> u64 {
        let p = p.clamp(0.0, 1.0);
        if n < 40 {
            (0..n).filter(|_| self.uniform() < p).count() as u64
        } else {
            let mean = n as f64 * p;
            let sd = (mean * (1.0 - p)).sqrt();
            (mean + sd * self.normal()).round().clamp(0.0, n as f64) as u64
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reference tables
// ---------------------------------------------------------------------------------------

/// Minimal RFC 4180 reader: header + rows, quoted fields may contain commas.
fn read_csv(path: &Path) -> Res<Vec<HashMap<String, String>>> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut records: Vec<Vec<String>> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        fields.push(cur);
        records.push(fields);
    }
    let header = records.first().ok_or("empty csv")?.clone();
    Ok(records[1..]
        .iter()
        .map(|r| header.iter().cloned().zip(r.iter().cloned()).collect())
        .collect())
}

struct District {
    code: String,
    name: String,
    name_en: String,
    pop: u64,
    area_centi: u64, // km² × 100
    crime: f64,      // relative crime level
    quality: f64,    // latent governance quality
}

struct Street {
    code: String,
    name: String,
    town: bool,
    d: usize,
    pop: u64,
    area_centi: u64,
    crime: f64,
    quality: f64,
    vol_start: f64,
    vol_end: f64,
    vol_shape: f64,
    units_start: f64,
    units_end: f64,
    units_shape: f64,
}

/// Per-district levels (synthetic assumptions, not measurements).
fn district_profile(code: &str) -> (f64, f64) {
    match code {
        "440103" => (1.00, 0.2),  // 荔湾
        "440104" => (1.15, 0.6),  // 越秀
        "440105" => (1.00, 0.1),  // 海珠
        "440106" => (1.20, 0.4),  // 天河
        "440111" => (1.30, -0.4), // 白云
        "440112" => (0.90, 0.5),  // 黄埔
        "440113" => (1.05, 0.0),  // 番禺
        "440114" => (0.95, -0.2), // 花都
        "440115" => (0.80, 0.3),  // 南沙
        "440117" => (0.65, -0.5), // 从化
        "440118" => (0.90, -0.3), // 增城
        _ => (1.0, 0.0),
    }
}

/// Splits `total` into integer parts proportional to `weights` (largest remainder).
fn split(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut parts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut left = total - parts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.partial_cmp(&ra).unwrap().then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

fn load(reference: &Path) -> Res<(Vec<District>, Vec<Street>)> {
    let mut districts = Vec::new();
    for r in read_csv(&reference.join("districts.csv"))? {
        let code = r["code"].clone();
        let (crime, quality) = district_profile(&code);
        let area: f64 = r["area_km2"].parse()?;
        districts.push(District {
            name: r["name_zh"].clone(),
            name_en: r["name_en"].clone(),
            pop: r["pop_census_2020"].parse()?,
            area_centi: (area * 100.0).round() as u64,
            crime,
            quality,
            code,
        });
    }
    let mut streets = Vec::new();
    for r in read_csv(&reference.join("streets.csv"))? {
        let d = districts
            .iter()
            .position(|d| d.code == r["district_code"])
            .ok_or_else(|| format!("unknown district {}", r["district_code"]))?;
        let code = r["code"].clone();
        let item: u64 = code.parse()?;
        let mut rng = Rng::stream(1, item);
        let town = r["type"] == "镇";
        let dist = &districts[d];
        let quality = dist.quality + 0.45 * rng.normal();
        let crime = dist.crime * (0.25 * rng.normal()).exp() * if town { 0.85 } else { 1.0 };
        streets.push(Street {
            code,
            name: r["name"].clone(),
            town,
            d,
            pop: 0,
            area_centi: 0,
            crime,
            quality,
            vol_start: 0.0,
            vol_end: 0.0,
            vol_shape: 0.7 + 0.7 * rng.uniform(),
            units_start: 0.0,
            units_end: 0.0,
            units_shape: 0.7 + 0.7 * rng.uniform(),
        });
    }
    streets.sort_by(|a, b| a.code.cmp(&b.code));

    // Synthetic splits of the real district population and area.
    for (di, dist) in districts.iter().enumerate() {
        let idx: Vec<usize> = (0..streets.len()).filter(|&i| streets[i].d == di).collect();
        let mut pw = Vec::new();
        let mut aw = Vec::new();
        for &i in &idx {
            let mut rng = Rng::stream(2, streets[i].code.parse()?);
            let t = streets[i].town;
            pw.push((0.45 * rng.normal()).exp() * if t { 1.2 } else { 1.0 });
            aw.push((0.6 * rng.normal()).exp() * if t { 6.0 } else { 1.0 });
        }
        let pops = split(dist.pop, &pw);
        let areas = split(dist.area_centi, &aw);
        for (k, &i) in idx.iter().enumerate() {
            streets[i].pop = pops[k];
            streets[i].area_centi = areas[k];
        }
    }

    // Stocks that grow over the two years: 广州街坊 volunteers and minimum emergency units.
    let unit_w: Vec<f64> = streets
        .iter()
        .map(|s| {
            (s.pop as f64).powf(0.8) * if s.town { 1.4 } else { 1.0 } * (0.1 * s.quality).exp()
        })
        .collect();
    let units_end = split(EMERGENCY_UNITS_END, &unit_w);
    for (i, s) in streets.iter_mut().enumerate() {
        let mut rng = Rng::stream(3, s.code.parse()?);
        let share_end = 0.09 * (0.2 * rng.normal() + 0.15 * s.quality).exp();
        s.vol_end = s.pop as f64 * share_end;
        s.vol_start = s.vol_end * 0.6 * (1.0 + 0.05 * rng.normal());
        s.units_end = units_end[i] as f64;
        s.units_start = s.units_end * 0.52 * (1.0 + 0.1 * rng.normal());
    }
    Ok((districts, streets))
}

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Dec(usize),
}

struct Table {
    cols: Vec<(&'static str, Kind)>,
    rows: Vec<(String, String, Vec<Option<f64>>)>, // month, street_code, values
}

impl Table {
    fn new(cols: &[(&'static str, Kind)]) -> Self {
        Table {
            cols: cols.to_vec(),
            rows: Vec::new(),
        }
    }

    fn col(&self, name: &str) -> usize {
        self.cols.iter().position(|c| c.0 == name).expect("column")
    }

    fn row_mut(&mut self, month: &str, street: &str) -> &mut Vec<Option<f64>> {
        let r = self
            .rows
            .iter_mut()
            .find(|r| r.0 == month && r.1 == street)
            .expect("row");
        &mut r.2
    }

    fn blank(&mut self, month: &str, street: &str, cols: &[&str]) {
        let idx: Vec<usize> = cols.iter().map(|c| self.col(c)).collect();
        let row = self.row_mut(month, street);
        for i in idx {
            row[i] = None;
        }
    }

    fn scale(&mut self, month: &str, street: &str, col: &str, factor: f64) -> (f64, f64) {
        let i = self.col(col);
        let dec = matches!(self.cols[i].1, Kind::Dec(_));
        let row = self.row_mut(month, street);
        let old = row[i].expect("value");
        let new = if dec {
            (old * factor * 100.0).round() / 100.0
        } else {
            (old * factor).round()
        };
        row[i] = Some(new);
        (old, new)
    }

    fn set(&mut self, month: &str, street: &str, col: &str, value: f64) -> f64 {
        let i = self.col(col);
        let row = self.row_mut(month, street);
        let old = row[i].expect("value");
        row[i] = Some(value);
        old
    }

    fn get(&self, month: &str, street: &str, col: &str) -> f64 {
        let i = self.col(col);
        self.rows
            .iter()
            .find(|r| r.0 == month && r.1 == street)
            .expect("row")
            .2[i]
            .expect("value")
    }
}

fn fmt_value(v: Option<f64>, kind: Kind) -> String {
    match (v, kind) {
        (None, _) => String::new(),
        (Some(x), Kind::Int) => format!("{}", x as i64),
        (Some(x), Kind::Dec(p)) => format!("{x:.p$}"),
    }
}

fn write_csv(t: &Table, path: &Path) -> Res<()> {
    let mut out = String::from("month,street_code");
    for (c, _) in &t.cols {
        out.push(',');
        out.push_str(c);
    }
    out.push('\n');
    for (m, s, vals) in &t.rows {
        out.push_str(m);
        out.push(',');
        out.push_str(s);
        for (v, (_, k)) in vals.iter().zip(&t.cols) {
            out.push(',');
            out.push_str(&fmt_value(*v, *k));
        }
        out.push('\n');
    }
    fs::write(path, out)?;
    Ok(())
}

fn write_parquet(t: &Table, path: &Path) -> Res<()> {
    let mut fields = vec![
        Field::new("month", DataType::Utf8, false),
        Field::new("street_code", DataType::Utf8, false),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            t.rows.iter().map(|r| r.0.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            t.rows.iter().map(|r| r.1.as_str()),
        )),
    ];
    for (i, (name, kind)) in t.cols.iter().enumerate() {
        match kind {
            Kind::Int => {
                fields.push(Field::new(*name, DataType::Int64, true));
                let a: Int64Array = t.rows.iter().map(|r| r.2[i].map(|x| x as i64)).collect();
                arrays.push(Arc::new(a));
            }
            Kind::Dec(_) => {
                fields.push(Field::new(*name, DataType::Float64, true));
                let a: Float64Array = t.rows.iter().map(|r| r.2[i]).collect();
                arrays.push(Arc::new(a));
            }
        }
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_created_by("kapok gen_sample_data (synthetic sample data)".to_string())
        .build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))?;
    w.write(&batch)?;
    w.close()?;
    fs::write(path, buf)?;
    Ok(())
}

fn write_xlsx(t: &Table, path: &Path, sheet: &str, title: &str, notes: &[&str]) -> Res<()> {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2024, 1, 15)?.and_hms(9, 0, 0)?;
    let props = DocProperties::new()
        .set_title(title)
        .set_author("kapok gen_sample_data")
        .set_comment("SYNTHETIC sample data, not official statistics")
        .set_creation_datetime(&created);
    wb.set_properties(&props);
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    ws.write_string_with_format(0, 0, "month", &bold)?;
    ws.write_string_with_format(0, 1, "street_code", &bold)?;
    for (j, (c, _)) in t.cols.iter().enumerate() {
        ws.write_string_with_format(0, (j + 2) as u16, *c, &bold)?;
    }
    for (i, (m, s, vals)) in t.rows.iter().enumerate() {
        let r = (i + 1) as u32;
        ws.write_string(r, 0, m)?;
        ws.write_string(r, 1, s)?;
        for (j, v) in vals.iter().enumerate() {
            if let Some(x) = v {
                ws.write_number(r, (j + 2) as u16, *x)?;
            }
        }
    }
    ws.set_freeze_panes(1, 2)?;
    ws.set_column_width(0, 9)?;
    ws.set_column_width(1, 12)?;
    for j in 0..t.cols.len() {
        ws.set_column_width((j + 2) as u16, (t.cols[j].0.len() + 2) as f64)?;
    }
    let ns = wb.add_worksheet();
    ns.set_name("说明")?;
    for (i, line) in notes.iter().enumerate() {
        ns.write_string(i as u32, 0, *line)?;
    }
    wb.save(path)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Calendar effects
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Month {
    y: u32,
    m: u32,
    t: f64, // 0 … 1 across the 24 months
}

impl Month {
    fn label(&self) -> String {
        format!("{}-{:02}", self.y, self.m)
    }
    /// Spring Festival month: 2022-02-01 and 2023-01-22. Many migrant residents leave.
    fn spring_festival(&self) -> bool {
        (self.y, self.m) == (2022, 2) || (self.y, self.m) == (2023, 1)
    }
    /// The weeks before the festival: wage-arrears disputes and pickpocketing peak.
    fn pre_festival(&self) -> bool {
        (self.y, self.m) == (2022, 1) || (self.y, self.m) == (2022, 12)
    }
    fn summer(&self) -> bool {
        (6..=9).contains(&self.m)
    }
    fn winter(&self) -> bool {
        self.m == 12 || self.m <= 2
    }
    /// 2022-11: COVID-19 control period (strongest in 海珠区); 2022-12: reopening wave.
    fn covid(&self) -> u8 {
        match (self.y, self.m) {
            (2022, 11) => 2,
            (2022, 12) => 1,
            _ => 0,
        }
    }
}

fn months() -> Vec<Month> {
    let mut v = Vec::new();
    for y in YEARS {
        for m in 1..=12 {
            v.push(Month { y, m, t: 0.0 });
        }
    }
    let n = v.len() as f64 - 1.0;
    for (i, m) in v.iter_mut().enumerate() {
        m.t = i as f64 / n;
    }
    v
}

fn ramp(start: f64, end: f64, shape: f64, t: f64) -> f64 {
    start + (end - start) * t.powf(shape)
}

fn clampp(p: f64) -> f64 {
    p.clamp(0.01, 0.998)
}

// ---------------------------------------------------------------------------------------
// Department returns
// ---------------------------------------------------------------------------------------

use Kind::{Dec, Int};

fn gen_police(streets: &[Street], districts: &[District], ms: &[Month]) -> Res<Table> {
    let mut t = Table::new(&[
        ("theft_cases", Int),
        ("burglary_cases", Int),
        ("robbery_cases", Int),
        ("fraud_cases", Int),
        ("telecom_fraud_cases", Int),
        ("fraud_loss_10k_yuan", Dec(2)),
        ("criminal_cases", Int),
        ("criminal_cases_solved", Int),
        ("traffic_accidents", Int),
        ("traffic_deaths", Int),
        ("fires", Int),
    ]);
    for s in streets {
        let mut rng = Rng::stream(10, s.code.parse()?);
        let p10k = s.pop as f64 / 1e4;
        let urban_fraud = districts[s.d].crime.sqrt() * if s.town { 0.8 } else { 1.0 };
        for m in ms {
            let mut season = 1.0;
            if m.spring_festival() {
                season *= 0.82;
            }
            if m.pre_festival() {
                season *= 1.08;
            }
            if m.covid() == 2 {
                season *= 0.8;
            }
            let theft_trend = 1.0 - 0.10 * m.t;
            let fraud_trend = if m.y == 2022 {
                1.0
            } else {
                1.0 - 0.22 * (m.m as f64 / 12.0)
            };
            let theft = rng.poisson(p10k * 2.0 * s.crime * season * theft_trend);
            let burglary = rng.binomial(theft, if s.town { 0.16 } else { 0.11 });
            let robbery = rng.poisson(p10k * 0.05 * s.crime * season);
            let wobble = (0.1 * rng.normal()).exp();
            let fraud = rng.poisson(p10k * 2.9 * urban_fraud * fraud_trend * wobble);
            let telecom = rng.binomial(fraud, 0.78);
            let mut loss = 0.0;
            for k in 0..fraud {
                let mean: f64 = if k < telecom { 4.5 } else { 1.5 };
                loss += (mean.ln() - 0.5 + rng.normal()).exp();
            }
            let other = rng.poisson(p10k * 1.1 * s.crime);
            let criminal = theft + robbery + fraud + other;
            let p_clear = (0.42 + 0.05 * s.quality + 0.05 * m.t).clamp(0.15, 0.85);
            let solved = rng.binomial(criminal, p_clear);
            let mut traffic_season = if m.summer() { 1.05 } else { 1.0 };
            if m.spring_festival() {
                traffic_season *= 1.1;
            }
            if m.covid() == 2 {
                traffic_season *= 0.7;
            }
            let accidents =
                rng.poisson(p10k * 0.55 * traffic_season * if s.town { 1.8 } else { 1.0 });
            let deaths = rng.poisson(p10k * 0.028 * if s.town { 2.2 } else { 0.8 });
            let mut fire_season = if m.winter() {
                1.2
            } else if m.summer() {
                0.9
            } else {
                1.0
            };
            if m.spring_festival() {
                fire_season *= 1.15;
            }
            let fires = rng.poisson(p10k * 0.3 * fire_season * if s.town { 1.3 } else { 1.0 });
            t.rows.push((
                m.label(),
                s.code.clone(),
                vec![
                    Some(theft as f64),
                    Some(burglary as f64),
                    Some(robbery as f64),
                    Some(fraud as f64),
                    Some(telecom as f64),
                    Some((loss * 100.0).round() / 100.0),
                    Some(criminal as f64),
                    Some(solved as f64),
                    Some(accidents as f64),
                    Some(deaths as f64),
                    Some(fires as f64),
                ],
            ));
        }
    }
    Ok(t)
}

fn gen_disputes(streets: &[Street], ms: &[Month]) -> Res<Table> {
    let mut t = Table::new(&[
        ("disputes_received", Int),
        ("disputes_mediated", Int),
        ("petitions_received", Int),
        ("petitions_repeat", Int),
        ("petitions_on_time", Int),
        ("legal_aid_cases", Int),
    ]);
    for s in streets {
        let mut rng = Rng::stream(11, s.code.parse()?);
        let p10k = s.pop as f64 / 1e4;
        let q = s.quality;
        for m in ms {
            let season = if m.pre_festival() {
                1.3
            } else if m.spring_festival() {
                0.85
            } else {
                1.0
            };
            let received = rng.poisson(p10k * 2.6 * (-0.1 * q).exp() * season);
            let mediated = rng.binomial(received, clampp(0.90 + 0.03 * q + 0.03 * m.t));
            let petitions = rng.poisson(p10k * 0.75 * (-0.15 * q).exp() * (1.0 - 0.1 * m.t));
            let repeat = rng.binomial(petitions, clampp(0.16 - 0.03 * q - 0.03 * m.t));
            let on_time = rng.binomial(petitions, clampp(0.93 + 0.03 * q + 0.02 * m.t));
            let legal_aid = rng.poisson(p10k * 0.3 * if s.town { 0.8 } else { 1.0 });
            t.rows.push((
                m.label(),
                s.code.clone(),
                [received, mediated, petitions, repeat, on_time, legal_aid]
                    .iter()
                    .map(|&x| Some(x as f64))
                    .collect(),
            ));
        }
    }
    Ok(t)
}

fn gen_copolicing(streets: &[Street], ms: &[Month]) -> Res<Table> {
    let mut t = Table::new(&[
        ("volunteers_registered", Int),
        ("patrol_hours", Int),
        ("clues_reported", Int),
        ("clues_verified", Int),
        ("emergency_units", Int),
        ("drills_held", Int),
        ("drills_met_1min", Int),
        ("drills_met_3min", Int),
        ("drills_met_5min", Int),
    ]);
    for s in streets {
        let mut rng = Rng::stream(12, s.code.parse()?);
        let q = s.quality;
        for m in ms {
            let vol = ramp(s.vol_start, s.vol_end, s.vol_shape, m.t).round();
            let units = ramp(s.units_start, s.units_end, s.units_shape, m.t).round();
            let season = if m.spring_festival() {
                0.75
            } else if m.covid() == 2 {
                1.3
            } else {
                1.0
            };
            let hours =
                (vol * 0.45 * (0.1 * q).exp() * season * (0.08 * rng.normal()).exp()).round();
            let clues = rng.poisson(vol * 0.0025 * (0.1 * q).exp());
            let verified = rng.binomial(clues, clampp(0.55 + 0.05 * q));
            let drills = rng.poisson(units * 0.12 * (1.0 + 0.3 * m.t));
            let base = 0.72 + 0.05 * q + 0.12 * m.t;
            let d1 = rng.binomial(drills, clampp(base));
            let d3 = rng.binomial(drills, clampp(base + 0.08));
            let d5 = rng.binomial(drills, clampp(base + 0.14));
            t.rows.push((
                m.label(),
                s.code.clone(),
                [
                    vol,
                    hours,
                    clues as f64,
                    verified as f64,
                    units,
                    drills as f64,
                    d1 as f64,
                    d3 as f64,
                    d5 as f64,
                ]
                .iter()
                .map(|&x| Some(x))
                .collect(),
            ));
        }
    }
    Ok(t)
}

fn gen_emergency(streets: &[Street], ms: &[Month]) -> Res<Table> {
    let mut t = Table::new(&[
        ("emergency_calls", Int),
        ("response_minutes_total", Dec(1)),
        ("arrivals_within_target", Int),
        ("hazards_found", Int),
        ("hazards_rectified", Int),
    ]);
    for s in streets {
        let mut rng = Rng::stream(13, s.code.parse()?);
        let p10k = s.pop as f64 / 1e4;
        let q = s.quality;
        let density = s.pop as f64 / (s.area_centi as f64 / 100.0);
        // Sparse towns are slower to reach.
        let base_minutes =
            if s.town { 10.5 } else { 6.8 } + 1.2 * (1.0 - (density / 20_000.0).min(1.0));
        for m in ms {
            let mut season = if m.summer() { 1.1 } else { 1.0 };
            if m.covid() == 1 {
                season *= 1.4;
            }
            let calls = rng.poisson(p10k * 18.0 * season);
            let mean = base_minutes
                * (-0.05 * q).exp()
                * (1.0 - 0.06 * m.t)
                * if m.covid() == 1 { 1.15 } else { 1.0 };
            let minutes = calls as f64 * mean * (0.04 * rng.normal()).exp();
            let within = rng.binomial(calls, clampp(0.97 - 0.03 * (mean - 6.0)));
            let found = rng.poisson(p10k * 4.0 * if s.town { 1.5 } else { 1.0 });
            let rectified = rng.binomial(found, clampp(0.90 + 0.03 * q + 0.04 * m.t));
            t.rows.push((
                m.label(),
                s.code.clone(),
                vec![
                    Some(calls as f64),
                    Some((minutes * 10.0).round() / 10.0),
                    Some(within as f64),
                    Some(found as f64),
                    Some(rectified as f64),
                ],
            ));
        }
    }
    Ok(t)
}

fn gen_hotline(streets: &[Street], districts: &[District], ms: &[Month]) -> Res<Table> {
    let mut t = Table::new(&[
        ("hotline_tickets", Int),
        ("tickets_on_time", Int),
        ("callbacks_made", Int),
        ("callbacks_satisfied", Int),
        ("repeat_complaints", Int),
    ]);
    for s in streets {
        let mut rng = Rng::stream(14, s.code.parse()?);
        let p10k = s.pop as f64 / 1e4;
        let q = s.quality;
        let dcode = districts[s.d].code.as_str();
        for m in ms {
            let mut season = if m.summer() { 1.15 } else { 1.0 };
            if m.spring_festival() {
                season *= 0.75;
            }
            let surge = match (m.covid(), dcode) {
                (2, "440105") => 3.5,
                (2, "440111" | "440106" | "440113") => 2.5,
                (2, _) => 1.8,
                (1, _) => 1.5,
                _ => 1.0,
            };
            let penalty = 0.03 * (surge - 1.0);
            let tickets = rng.poisson(p10k * 40.0 * (-0.05 * q).exp() * season * surge);
            let on_time = rng.binomial(tickets, clampp(0.95 + 0.02 * q + 0.02 * m.t - penalty));
            let callbacks = rng.binomial(tickets, 0.3);
            let satisfied = rng.binomial(callbacks, clampp(0.90 + 0.03 * q + 0.03 * m.t - penalty));
            let repeat = rng.binomial(tickets, clampp(0.08 - 0.015 * q + 0.5 * penalty));
            t.rows.push((
                m.label(),
                s.code.clone(),
                [tickets, on_time, callbacks, satisfied, repeat]
                    .iter()
                    .map(|&x| Some(x as f64))
                    .collect(),
            ));
        }
    }
    Ok(t)
}

fn gen_survey(streets: &[Street], ms: &[Month]) -> Res<Table> {
    let mut t = Table::new(&[
        ("survey_respondents", Int),
        ("respondents_feel_safe", Int),
        ("respondents_satisfied_policing", Int),
        ("respondents_aware_copolicing", Int),
    ]);
    for s in streets {
        let mut rng = Rng::stream(15, s.code.parse()?);
        let q = s.quality;
        for m in ms {
            let n = rng.poisson(60.0 + s.pop as f64 / 2000.0);
            let safe = rng.binomial(
                n,
                clampp(0.955 + 0.012 * q + 0.012 * m.t - 0.03 * (s.crime - 1.0)),
            );
            let satisfied = rng.binomial(n, clampp(0.90 + 0.02 * q + 0.02 * m.t));
            let aware = rng.binomial(n, clampp(0.55 + 0.25 * m.t + 0.04 * q));
            t.rows.push((
                m.label(),
                s.code.clone(),
                [n, safe, satisfied, aware]
                    .iter()
                    .map(|&x| Some(x as f64))
                    .collect(),
            ));
        }
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(args.get(1).map(String::as_str).unwrap_or("data"));
    let reference = match args.get(2) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data")
            .join("reference"),
    };
    fs::create_dir_all(&out)?;
    let (districts, streets) = load(&reference)?;
    if streets.len() != 176 || districts.len() != 11 {
        return Err(format!(
            "expected 11 districts and 176 streets, got {} and {}",
            districts.len(),
            streets.len()
        )
        .into());
    }
    let ms = months();

    // Static tables.
    let mut d_csv =
        String::from("district_code,district_name,district_name_en,population,area_km2\n");
    for d in &districts {
        d_csv.push_str(&format!(
            "{},{},{},{},{}.{:02}\n",
            d.code,
            d.name,
            d.name_en,
            d.pop,
            d.area_centi / 100,
            d.area_centi % 100
        ));
    }
    fs::write(out.join("districts.csv"), d_csv)?;
    let mut s_csv = String::from(
        "street_code,street_name,street_type,district_code,district_name,population,area_km2\n",
    );
    for s in &streets {
        let d = &districts[s.d];
        s_csv.push_str(&format!(
            "{},{},{},{},{},{},{}.{:02}\n",
            s.code,
            s.name,
            if s.town { "镇" } else { "街道" },
            d.code,
            d.name,
            s.pop,
            s.area_centi / 100,
            s.area_centi % 100
        ));
    }
    fs::write(out.join("streets.csv"), s_csv)?;

    let mut police = gen_police(&streets, &districts, &ms)?;
    let mut disputes = gen_disputes(&streets, &ms)?;
    let mut copolicing = gen_copolicing(&streets, &ms)?;
    let mut emergency = gen_emergency(&streets, &ms)?;
    let mut hotline = gen_hotline(&streets, &districts, &ms)?;
    let mut survey = gen_survey(&streets, &ms)?;
    for t in [
        &mut police,
        &mut disputes,
        &mut copolicing,
        &mut emergency,
        &mut hotline,
        &mut survey,
    ] {
        t.rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    }

    // Deliberate outliers (listed in data/README.md).
    let mut log = Vec::new();
    let (o, n) = police.scale("2023-05", "440106013", "fraud_cases", 8.0);
    let (ot, nt) = police.scale("2023-05", "440106013", "telecom_fraud_cases", 8.0);
    let (ol, nl) = police.scale("2023-05", "440106013", "fraud_loss_10k_yuan", 15.0);
    let cc = police.get("2023-05", "440106013", "criminal_cases");
    police.set("2023-05", "440106013", "criminal_cases", cc + (n - o));
    log.push(format!(
        "outlier police_monthly.csv 2023-05 440106013 猎德街道: fraud_cases {o}->{n}, telecom_fraud_cases {ot}->{nt}, fraud_loss_10k_yuan {ol}->{nl}, criminal_cases +{}",
        n - o
    ));
    let old = police.get("2022-09", "440118101", "traffic_deaths");
    police.set("2022-09", "440118101", "traffic_deaths", old + 7.0);
    log.push(format!(
        "outlier police_monthly.csv 2022-09 440118101 新塘镇: traffic_deaths {old}->{}",
        old + 7.0
    ));
    let (o, n) = disputes.scale("2023-01", "440113120", "disputes_received", 5.0);
    let med = disputes.get("2023-01", "440113120", "disputes_mediated");
    let new_med = med + ((n - o) * 0.6).round();
    disputes.set("2023-01", "440113120", "disputes_mediated", new_med);
    log.push(format!(
        "outlier disputes_monthly.parquet 2023-01 440113120 石碁镇: disputes_received {o}->{n}, disputes_mediated {med}->{new_med}"
    ));
    let (o, n) = disputes.scale("2022-08", "440105015", "petitions_received", 6.0);
    let rep = disputes.get("2022-08", "440105015", "petitions_repeat");
    let new_rep = rep + ((n - o) * 0.5).round();
    disputes.set("2022-08", "440105015", "petitions_repeat", new_rep);
    let ot = disputes.get("2022-08", "440105015", "petitions_on_time");
    let new_ot = ot + ((n - o) * 0.7).round();
    disputes.set("2022-08", "440105015", "petitions_on_time", new_ot);
    log.push(format!(
        "outlier disputes_monthly.parquet 2022-08 440105015 琶洲街道: petitions_received {o}->{n}, petitions_repeat {rep}->{new_rep}, petitions_on_time {ot}->{new_ot}"
    ));
    let (o, n) = hotline.scale("2023-08", "440111012", "hotline_tickets", 4.0);
    let mut extra = Vec::new();
    for (col, share) in [
        ("tickets_on_time", 0.85),
        ("callbacks_made", 0.3),
        ("repeat_complaints", 0.12),
    ] {
        let v = hotline.get("2023-08", "440111012", col);
        let nv = v + ((n - o) * share).round();
        hotline.set("2023-08", "440111012", col, nv);
        extra.push(format!("{col} {v}->{nv}"));
    }
    let cs = hotline.get("2023-08", "440111012", "callbacks_satisfied");
    let ncs = cs + ((n - o) * 0.3 * 0.8).round();
    hotline.set("2023-08", "440111012", "callbacks_satisfied", ncs);
    extra.push(format!("callbacks_satisfied {cs}->{ncs}"));
    log.push(format!(
        "outlier hotline_12345.parquet 2023-08 440111012 嘉禾街道: hotline_tickets {o}->{n}, {}",
        extra.join(", ")
    ));

    // Deliberate missing cells (listed in data/README.md).
    let survey_cols = [
        "survey_respondents",
        "respondents_feel_safe",
        "respondents_satisfied_policing",
        "respondents_aware_copolicing",
    ];
    let blanks: [(&str, &str, &str, &[&str]); 11] = [
        ("survey_monthly.xlsx", "2022-02", "440117107", &survey_cols),
        ("survey_monthly.xlsx", "2022-11", "440106018", &survey_cols),
        ("survey_monthly.xlsx", "2023-01", "440115100", &survey_cols),
        (
            "hotline_12345.parquet",
            "2022-11",
            "440105013",
            &["callbacks_made", "callbacks_satisfied"],
        ),
        (
            "hotline_12345.parquet",
            "2022-11",
            "440111108",
            &["callbacks_made", "callbacks_satisfied"],
        ),
        (
            "copolicing_monthly.xlsx",
            "2023-03",
            "440114103",
            &["patrol_hours"],
        ),
        (
            "copolicing_monthly.xlsx",
            "2023-04",
            "440114103",
            &["patrol_hours"],
        ),
        (
            "copolicing_monthly.xlsx",
            "2022-06",
            "440118104",
            &["drills_met_1min", "drills_met_3min", "drills_met_5min"],
        ),
        (
            "police_monthly.csv",
            "2023-09",
            "440112101",
            &["fraud_loss_10k_yuan"],
        ),
        (
            "emergency_monthly.csv",
            "2023-07",
            "440117113",
            &["response_minutes_total", "arrivals_within_target"],
        ),
        (
            "disputes_monthly.parquet",
            "2023-10",
            "440104001",
            &["legal_aid_cases"],
        ),
    ];
    for (file, month, street, cols) in blanks {
        let table = match file {
            "survey_monthly.xlsx" => &mut survey,
            "hotline_12345.parquet" => &mut hotline,
            "copolicing_monthly.xlsx" => &mut copolicing,
            "police_monthly.csv" => &mut police,
            "emergency_monthly.csv" => &mut emergency,
            _ => &mut disputes,
        };
        table.blank(month, street, cols);
        let name = &streets
            .iter()
            .find(|s| s.code == street)
            .expect("street")
            .name;
        log.push(format!(
            "missing {file} {month} {street} {name}: {}",
            cols.join(", ")
        ));
    }

    write_csv(&police, &out.join("police_monthly.csv"))?;
    write_parquet(&disputes, &out.join("disputes_monthly.parquet"))?;
    write_xlsx(
        &copolicing,
        &out.join("copolicing_monthly.xlsx"),
        "广州街坊",
        "广州街坊群防共治月报 (synthetic)",
        &[
            "广州街坊群防共治月报：街道/镇 × 月。SYNTHETIC sample data generated by kapok gen_sample_data; not official statistics.",
            "volunteers_registered, emergency_units: stock at month end; other columns: counts during the month.",
            "drills_met_1min / 3min / 5min: drills meeting the 1-minute self-rescue / 3-minute mutual-aid / 5-minute reinforcement target.",
            "Empty cells are missing returns (see data/README.md).",
        ],
    )?;
    write_csv(&emergency, &out.join("emergency_monthly.csv"))?;
    write_parquet(&hotline, &out.join("hotline_12345.parquet"))?;
    write_xlsx(
        &survey,
        &out.join("survey_monthly.xlsx"),
        "survey",
        "群众安全感月度调查 (synthetic)",
        &[
            "群众安全感月度调查：街道/镇 × 月。SYNTHETIC sample data generated by kapok gen_sample_data; not official statistics.",
            "All columns are numbers of respondents. An empty row means the survey was not carried out that month.",
        ],
    )?;

    // Summary for the README.
    let city_pop: u64 = districts.iter().map(|d| d.pop).sum();
    println!(
        "wrote {} (11 districts, 176 streets, {} months, population {city_pop})",
        out.display(),
        ms.len()
    );
    for l in &log {
        println!("{l}");
    }
    let dec = ms.last().expect("months").label();
    let units: f64 = copolicing
        .rows
        .iter()
        .filter(|r| r.0 == dec)
        .map(|r| r.2[4].unwrap_or(0.0))
        .sum();
    let vols: f64 = copolicing
        .rows
        .iter()
        .filter(|r| r.0 == dec)
        .map(|r| r.2[0].unwrap_or(0.0))
        .sum();
    println!("city totals {dec}: emergency_units {units}, volunteers_registered {vols}");
    Ok(())
}
