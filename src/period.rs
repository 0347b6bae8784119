//! Calendar periods: a month, a quarter or a year, parsed from the many ways departments write
//! them (`2023-1`, `2023/01`, `202301`, `2023年1月`, `2023M01`, `2023-Q1`, `2023年一季度`,
//! `2023-01-31`, …) into a typed, ordered value with one canonical text form (`2023-01`,
//! `2023-Q1`, `2023`).
//!
//! Canonical forms sort as text in calendar order within one granularity, so the data stage can
//! carry periods as canonical text; everything that needs the calendar ("the previous period",
//! `lag(x, k)`, gaps) goes through [`Period`].

use std::fmt;

/// How long a period is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
    /// Calendar years.
    Year,
}

impl Granularity {
    /// The granularity's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Month => "months",
            Self::Quarter => "quarters",
            Self::Year => "years",
        }
    }

    /// How many periods of this granularity make a year (12, 4 or 1).
    pub fn per_year(self) -> i64 {
        match self {
            Self::Month => 12,
            Self::Quarter => 4,
            Self::Year => 1,
        }
    }
}

/// One calendar period.
///
/// Periods of one granularity are ordered by the calendar; periods of different granularities
/// never meet in one framework (the data stage refuses that), and order by granularity first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    granularity: Granularity,
    /// Months, quarters or years since year 0 (`year * per_year + index`).
    ordinal: i64,
}

/// Years a period may name: four-digit years.
const YEARS: std::ops::RangeInclusive<i64> = 1000..=9999;

impl Period {
    /// A month (1–12) of a year.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && YEARS.contains(&i64::from(year))).then(|| Self {
            granularity: Granularity::Month,
            ordinal: i64::from(year) * 12 + i64::from(month) - 1,
        })
    }

    /// A quarter (1–4) of a year.
    pub fn quarter(year: i32, quarter: u32) -> Option<Self> {
        ((1..=4).contains(&quarter) && YEARS.contains(&i64::from(year))).then(|| Self {
            granularity: Granularity::Quarter,
            ordinal: i64::from(year) * 4 + i64::from(quarter) - 1,
        })
    }

    /// A year.
    pub fn year(year: i32) -> Option<Self> {
        YEARS.contains(&i64::from(year)).then(|| Self {
            granularity: Granularity::Year,
            ordinal: i64::from(year),
        })
    }

    /// The period's granularity.
    pub fn granularity(self) -> Granularity {
        self.granularity
    }

    /// The calendar year the period falls in.
    pub fn year_number(self) -> i32 {
        self.ordinal.div_euclid(self.granularity.per_year()) as i32
    }

    /// The period `k` steps later (`k < 0`: earlier), or `None` outside four-digit years.
    pub fn offset(self, k: i64) -> Option<Self> {
        let ordinal = self.ordinal.checked_add(k)?;
        let p = Self {
            granularity: self.granularity,
            ordinal,
        };
        YEARS.contains(&i64::from(p.year_number())).then_some(p)
    }

    /// The period before this one.
    pub fn previous(self) -> Option<Self> {
        self.offset(-1)
    }

    /// Steps from `self` to `later` (negative when `later` is earlier); `None` across
    /// granularities.
    pub fn steps_to(self, later: Self) -> Option<i64> {
        (self.granularity == later.granularity).then(|| later.ordinal - self.ordinal)
    }

    /// Every period from `self` to `last`, both included (empty when `last` is earlier or of
    /// another granularity).
    pub fn through(self, last: Self) -> impl Iterator<Item = Period> {
        let n = self.steps_to(last).unwrap_or(-1);
        (0..=n).filter_map(move |k| self.offset(k))
    }

    /// The first and last month the period covers, as months since year 0: 2023-Q4 is
    /// 2023·12 + 9 … 2023·12 + 11.
    pub fn month_range(self) -> (i64, i64) {
        let k = Granularity::Month.per_year() / self.granularity.per_year();
        (self.ordinal * k, self.ordinal * k + k - 1)
    }

    /// The period of the coarser (or same) granularity `g` that contains this one: 2023-11 is
    /// in 2023-Q4 and in 2023. `None` when `g` is finer.
    pub fn within(self, g: Granularity) -> Option<Self> {
        let per = self.granularity.per_year();
        let ratio = per / g.per_year();
        (g >= self.granularity && ratio * g.per_year() == per).then(|| Self {
            granularity: g,
            ordinal: self.ordinal.div_euclid(ratio),
        })
    }

    /// The periods of the finer (or same) granularity `g` that make up this one, in calendar
    /// order: 2023-Q4 in months is 2023-10, 2023-11, 2023-12. Empty when `g` is coarser.
    pub fn parts(self, g: Granularity) -> Vec<Self> {
        let ratio = g.per_year() / self.granularity.per_year();
        if g > self.granularity || ratio * self.granularity.per_year() != g.per_year() {
            return Vec::new();
        }
        (0..ratio)
            .map(|i| Self {
                granularity: g,
                ordinal: self.ordinal * ratio + i,
            })
            .collect()
    }

    /// Parses a period as departments write it. The error says what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let s = normalise(text);
        parse_normalised(&s).ok_or_else(|| {
            format!(
                "`{}` is not a period (write months as 2023-01, quarters as 2023-Q1, years as 2023)",
                text.trim()
            )
        })
    }
}

impl fmt::Display for Period {
    /// The canonical form: `2023-01`, `2023-Q1`, `2023`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = self.granularity.per_year();
        let year = self.ordinal.div_euclid(per);
        let index = self.ordinal.rem_euclid(per) + 1;
        match self.granularity {
            Granularity::Month => write!(f, "{year:04}-{index:02}"),
            Granularity::Quarter => write!(f, "{year:04}-Q{index}"),
            Granularity::Year => write!(f, "{year:04}"),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

/// Trims, maps full-width forms to ASCII and upper-cases Latin letters.
fn normalise(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '－' | '／' | '．' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            '　' => ' ',
            c => c,
        })
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Splits a string into its leading run of ASCII digits and the rest.
fn digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

fn number(d: &str, max_len: usize) -> Option<u32> {
    (!d.is_empty() && d.len() <= max_len)
        .then(|| d.parse().ok())
        .flatten()
}

/// Quarter numbers written as Chinese numerals or digits.
fn quarter_number(s: &str) -> Option<(u32, &str)> {
    for (word, q) in [("一", 1), ("二", 2), ("三", 3), ("四", 4)] {
        if let Some(rest) = s.strip_prefix(word) {
            return Some((q, rest));
        }
    }
    let (d, rest) = digits(s);
    Some((number(d, 1)?, rest))
}

fn parse_normalised(s: &str) -> Option<Period> {
    let (y, rest) = digits(s);
    // 202301: a year and a month run together.
    if y.len() == 6 && rest.is_empty() {
        return Period::month(y[..4].parse().ok()?, y[4..].parse().ok()?);
    }
    if y.len() != 4 {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    match rest {
        "" | "年" => return Period::year(year),
        _ => {}
    }
    // 2023年1月, 2023年第一季度, 2023年一季度, 2023年Q1
    if let Some(r) = rest.strip_prefix('年') {
        let r = r.trim_start();
        if let Some(q) = r.strip_prefix('Q') {
            return parse_quarter_tail(year, q);
        }
        let r = r.strip_prefix('第').unwrap_or(r);
        if let Some((q, tail)) = quarter_number(r)
            && matches!(tail, "季度" | "季")
        {
            return Period::quarter(year, q);
        }
        let (m, tail) = digits(r);
        return match tail {
            "月" | "月份" => Period::month(year, number(m, 2)?),
            _ => None,
        };
    }
    // 2023-Q1, 2023Q1, 2023 Q1, 2023/Q1
    let sep = rest.strip_prefix(['-', '/', '.', ' ', '_']).unwrap_or(rest);
    if let Some(q) = sep.strip_prefix('Q') {
        return parse_quarter_tail(year, q);
    }
    // 2023M01, 2023M1
    if let Some(m) = rest.strip_prefix('M') {
        let (d, tail) = digits(m);
        return tail
            .is_empty()
            .then(|| Period::month(year, number(d, 2)?))?;
    }
    // 2023-01, 2023-1, 2023/1, 2023.1, 2023.10 and ISO dates 2023-01-31 (with a time of day).
    let sep_char = rest.chars().next()?;
    if !matches!(sep_char, '-' | '/' | '.') {
        return None;
    }
    let (m, tail) = digits(&rest[1..]);
    let month = number(m, 2)?;
    if tail.is_empty() {
        return Period::month(year, month);
    }
    let day_part = tail.strip_prefix(sep_char)?;
    let (d, time) = digits(day_part);
    let day = number(d, 2)?;
    if !(1..=days_in_month(year, month)?).contains(&day) {
        return None;
    }
    let time_ok = time.is_empty()
        || time.starts_with('T')
        || (time.starts_with(' ') && time[1..].starts_with(|c: char| c.is_ascii_digit()));
    time_ok.then(|| Period::month(year, month))?
}

fn parse_quarter_tail(year: i32, q: &str) -> Option<Period> {
    let (d, tail) = digits(q);
    tail.is_empty()
        .then(|| Period::quarter(year, number(d, 1)?))?
}

fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Period::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .to_string()
    }

    #[test]
    fn months_as_departments_write_them() {
        for s in [
            "2023-01",
            "2023-1",
            "2023/1",
            "2023/01",
            "2023.1",
            "2023.01",
            "202301",
            "2023年1月",
            "2023年01月",
            "2023年1月份",
            "2023M01",
            "2023M1",
            "2023m1",
            "2023-01-31",
            "2023/1/31",
            "2023-01-31T00:00:00",
            "2023-01-31 08:00:00",
            " 2023-01 ",
            "２０２３年１月",
            "２０２３－０１",
        ] {
            assert_eq!(canon(s), "2023-01", "{s}");
        }
        assert_eq!(canon("2023.10"), "2023-10");
        assert_eq!(canon("2023-12"), "2023-12");
        assert_eq!(canon("2024-02-29"), "2024-02");
    }

    #[test]
    fn quarters_and_years() {
        for s in [
            "2023-Q1",
            "2023Q1",
            "2023q1",
            "2023 Q1",
            "2023年第一季度",
            "2023年一季度",
            "2023年第1季度",
            "2023年1季度",
            "2023年Q1",
        ] {
            assert_eq!(canon(s), "2023-Q1", "{s}");
        }
        assert_eq!(canon("2023年第四季度"), "2023-Q4");
        assert_eq!(canon("2023"), "2023");
        assert_eq!(canon("2023年"), "2023");
    }

    #[test]
    fn not_periods() {
        for s in [
            "",
            "abc",
            "2023-13",
            "2023-00",
            "2023-Q5",
            "2023-Q0",
            "2023年第五季度",
            "2023年13月",
            "2023-02-30",
            "2023-01-32",
            "44927",
            "23-01",
            "2023-001",
            "20231",
            "2023-01-01x",
            "2023-1-1-1",
            "0999",
            "2023.1.5.7",
        ] {
            assert!(
                Period::parse(s).is_err(),
                "{s} parsed as {:?}",
                Period::parse(s)
            );
        }
        let e = Period::parse(" 2023-13 ").unwrap_err();
        assert!(e.contains("`2023-13` is not a period"), "{e}");
    }

    #[test]
    fn calendar_order_and_steps() {
        let p = |s: &str| Period::parse(s).unwrap();
        assert!(p("2023-9") < p("2023-10"));
        assert!(p("2022-12") < p("2023-1"));
        assert_eq!(p("2023-01").previous(), Some(p("2022-12")));
        assert_eq!(p("2023-Q1").previous(), Some(p("2022-Q4")));
        assert_eq!(p("2023").previous(), Some(p("2022")));
        assert_eq!(p("2023-03").offset(-12), Some(p("2022-03")));
        assert_eq!(p("2022-11").steps_to(p("2023-02")), Some(3));
        assert_eq!(p("2023").steps_to(p("2023-01")), None);
        let all: Vec<String> = p("2022-11")
            .through(p("2023-02"))
            .map(|x| x.to_string())
            .collect();
        assert_eq!(all, ["2022-11", "2022-12", "2023-01", "2023-02"]);
        assert_eq!(p("2023-02").through(p("2023-01")).count(), 0);
        assert_eq!(p("1000-01").previous(), None);
    }

    #[test]
    fn periods_within_coarser_ones() {
        let p = |s: &str| Period::parse(s).unwrap();
        assert_eq!(
            p("2023-11").within(Granularity::Quarter),
            Some(p("2023-Q4"))
        );
        assert_eq!(
            p("2023-01").within(Granularity::Quarter),
            Some(p("2023-Q1"))
        );
        assert_eq!(
            p("2023-03").within(Granularity::Quarter),
            Some(p("2023-Q1"))
        );
        assert_eq!(
            p("2023-04").within(Granularity::Quarter),
            Some(p("2023-Q2"))
        );
        assert_eq!(p("2023-12").within(Granularity::Year), Some(p("2023")));
        assert_eq!(p("2023-Q3").within(Granularity::Year), Some(p("2023")));
        assert_eq!(p("2023-Q3").within(Granularity::Month), None);
        let months: Vec<String> = p("2023-Q4")
            .parts(Granularity::Month)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(months, ["2023-10", "2023-11", "2023-12"]);
        assert_eq!(p("2022").parts(Granularity::Month).len(), 12);
        assert_eq!(p("2022").parts(Granularity::Quarter)[3], p("2022-Q4"));
        assert!(p("2023-01").parts(Granularity::Quarter).is_empty());
    }

    #[test]
    fn canonical_text_sorts_like_the_calendar() {
        let mut ps: Vec<Period> = ["2023-10", "2023-9", "2022-12", "2023-1", "2023-11"]
            .iter()
            .map(|s| Period::parse(s).unwrap())
            .collect();
        let mut texts: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
        ps.sort();
        texts.sort();
        let by_calendar: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
        assert_eq!(by_calendar, texts);
    }
}
