//! The `[report]` table: what the issuing office prints at the head of its report — a title,
//! the issuer and a publication note. Each field is a plain string (the same in every
//! language) or a table `{ zh = "…", en = "…" }` with either or both (a missing language falls
//! back visibly to the other, as every framework text does).

use std::ops::Range;

use toml::de::DeTable;

use super::check::text;
use super::model::Text;
use super::read::{Sink, TableReader};

/// Header fields of the report (`[report]`); every one is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportHeader {
    /// The report's title (default: the index's name).
    pub title: Option<Text>,
    /// The issuing office, e.g. 广州市社会治安综合治理委员会办公室.
    pub issuer: Option<Text>,
    /// A publication note, e.g. the release date, the status of the figures or a contact.
    pub note: Option<Text>,
    /// The title when quarters are published from finer data (`--per quarter`).
    pub title_quarter: Option<Text>,
    /// The title when years are published from finer data (`--per year`).
    pub title_year: Option<Text>,
}

impl ReportHeader {
    /// The title for publishing at granularity `per` (the framework's `[rollup]` per, from
    /// `[units] per` or `--per`): `title_quarter` or `title_year` when written, else `title`.
    pub fn title_per(&self, per: Option<crate::period::Granularity>) -> Option<&Text> {
        let own = match per {
            Some(crate::period::Granularity::Quarter) => self.title_quarter.as_ref(),
            Some(crate::period::Granularity::Year) => self.title_year.as_ref(),
            _ => None,
        };
        own.or(self.title.as_ref())
    }
}

/// Reads and checks the `[report]` table: unknown keys and values of the wrong type are
/// diagnostics at their line and column.
pub(super) fn read(sink: &mut Sink, t: &DeTable<'_>, span: Range<usize>) -> ReportHeader {
    let mut r = TableReader::new(t, span, "[report]");
    let header = ReportHeader {
        title: text(sink, &mut r, "title"),
        issuer: text(sink, &mut r, "issuer"),
        note: text(sink, &mut r, "note"),
        title_quarter: text(sink, &mut r, "title_quarter"),
        title_year: text(sink, &mut r, "title_year"),
    };
    r.finish(sink);
    header
}
